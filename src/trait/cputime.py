"""CPU seconds of a piece of work and of every process it starts.

``resource.getrusage(RUSAGE_CHILDREN)`` sees only children that were waited for: datatrove's local
workers are children of its forkserver, which nobody waits for until exit, so their CPU would be lost.
The meter therefore also samples the process tree (psutil) and keeps, per process, the CPU it last
showed; the larger of the two child totals counts, so neither is added twice.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from typing import Self

import psutil


class CPUMeter:
    """``with CPUMeter() as m: ...`` then ``m.cpu_s`` (this process and its descendants) and ``m.wall_s``.
    ``interval``: seconds between samples of the tree (a descendant that is neither waited for nor alive
    at a sample is missed)."""

    def __init__(self, interval: float = 0.5) -> None:
        self.root, self.interval = os.getpid(), interval
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self.cpu_s = self.wall_s = 0.0

    def _sample(self) -> None:
        self.seen.update(_tree_cpu(self.root))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> Self:
        self._wall, self._own, self._kids = time.perf_counter(), time.process_time(), _waited()
        self._before = _tree_cpu(self.root)  # what live descendants had spent before
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sample()
        self._stop.set()
        self._thread.join()
        sampled = sum(cpu - self._before.get(pid, 0.0) for pid, cpu in self.seen.items())
        self.cpu_s = time.process_time() - self._own + max(_waited() - self._kids, sampled)
        self.wall_s = time.perf_counter() - self._wall


def _waited() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _tree_cpu(root: int) -> dict[int, float]:
    try:
        tree = psutil.Process(root).children(recursive=True)
    except psutil.Error:
        return {}
    out = {}
    for p in tree:
        try:
            t = p.cpu_times()
            out[p.pid] = t.user + t.system
        except psutil.Error:
            continue
    return out
