"""Console output: one rich console on stderr, and progress bars with rates and ETA for long work."""

from __future__ import annotations

import os
import threading

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True)
if not console.is_terminal and "COLUMNS" not in os.environ:
    console.width = 120  # a log file: no wrapping at 80 columns mid-message or mid-table


class LoggedProgress(Progress):
    """A rich progress bar that, when the output is not a terminal (a log file, CI), also prints one
    plain line per unfinished task every ``TRAIT_PROGRESS_INTERVAL`` seconds (default 30): rich
    draws nothing there until the end, and a long step would look hung."""

    def start(self) -> None:
        super().start()
        self._stop_log = threading.Event()
        if not self.console.is_terminal:
            interval = float(os.environ.get("TRAIT_PROGRESS_INTERVAL", "30"))
            threading.Thread(target=self._log, args=(interval,), daemon=True).start()

    def stop(self) -> None:
        getattr(self, "_stop_log", threading.Event()).set()
        super().stop()

    def _log(self, interval: float) -> None:
        while not self._stop_log.wait(interval):
            for t in self.tasks:
                if not t.finished:
                    total = f"/{t.total:.0f}" if t.total else ""
                    eta = f", ~{t.time_remaining:.0f} s left" if t.time_remaining else ""
                    self.console.print(f"{t.description}: {t.completed:.0f}{total} after {t.elapsed or 0:.0f} s"
                                       f"{eta}", highlight=False, markup=False)


def progress(*extra_columns) -> Progress:
    """A progress bar: description, bar, n/total, %, elapsed, ETA (+ any stage-specific columns)."""
    return LoggedProgress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TaskProgressColumn(), TimeElapsedColumn(), TimeRemainingColumn(), *extra_columns,
                          console=console, transient=False)


def info(msg: str) -> None:
    console.print(msg, highlight=False)
