"""Console output: one rich console on stderr, and progress bars with rates and ETA for long work."""

from __future__ import annotations

import os

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


def progress(*extra_columns) -> Progress:
    """A progress bar: description, bar, n/total, %, elapsed, ETA (+ any stage-specific columns)."""
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TaskProgressColumn(), TimeElapsedColumn(), TimeRemainingColumn(), *extra_columns,
                    console=console, transient=False)


def info(msg: str) -> None:
    console.print(msg, highlight=False)
