"""The CPU meter counts work done in this process, in waited-for children, and in processes that
nobody waits for (a forkserver pool's workers, as datatrove's local executor starts them)."""

import multiprocessing
import subprocess
import sys

from trait.cputime import CPUMeter, _waited


def _spin(n: int) -> int:
    return sum(i * i for i in range(n))


def test_own_and_waited_children_count():
    with CPUMeter(interval=0.05) as m:
        _spin(300_000)
        subprocess.run([sys.executable, "-c", "sum(i * i for i in range(4_000_000))"], check=True)
    assert m.cpu_s > 0.2 and m.wall_s >= m.cpu_s * 0.5  # the child's loop alone is ~0.3 s


def test_a_forkserver_pools_workers_count_though_nobody_waits_for_them():
    ctx = multiprocessing.get_context("forkserver")
    pool = ctx.Pool(1)
    try:
        kids = _waited()
        with CPUMeter(interval=0.05) as m:
            pool.apply(_spin, (6_000_000,))  # ~0.5 s of CPU in the worker, a grandchild of this process
        assert _waited() - kids < 0.05  # rusage alone would have seen none of it
        assert m.cpu_s > 0.25
    finally:
        pool.terminate()
        pool.join()
