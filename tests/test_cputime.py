"""The CPU meter counts work done in this process, in waited-for children, and in processes that
nobody waits for (a forkserver pool's workers, as datatrove's local executor starts them)."""

import multiprocessing
import subprocess
import sys
import time

from trait.cputime import CPUMeter, _waited


def _spin(n: int) -> int:
    return sum(i * i for i in range(n))


def _spin_timed(n: int) -> float:
    """The CPU seconds this process spent spinning: the anchor, measured where the work ran."""
    t0 = time.process_time()
    _spin(n)
    return time.process_time() - t0


# The meter samples every `interval`, so it may miss the last slice; the anchors are measured in the same
# run, so a faster or slower machine moves both sides alike.
def test_own_and_waited_children_count():
    kids = _waited()
    with CPUMeter(interval=0.05) as m:
        own = _spin_timed(300_000)
        subprocess.run([sys.executable, "-c", "sum(i * i for i in range(4_000_000))"], check=True)
    child = _waited() - kids
    assert child > 0 and m.cpu_s >= 0.9 * (own + child) and m.wall_s >= m.cpu_s * 0.5


def test_a_forkserver_pools_workers_count_though_nobody_waits_for_them():
    ctx = multiprocessing.get_context("forkserver")
    pool = ctx.Pool(1)
    try:
        kids = _waited()
        with CPUMeter(interval=0.05) as m:
            worker = pool.apply(_spin_timed, (6_000_000,))  # CPU in the worker, a grandchild of this process
        assert _waited() - kids < 0.05  # rusage alone would have seen none of it
        assert m.cpu_s >= 0.8 * worker
    finally:
        pool.terminate()
        pool.join()
