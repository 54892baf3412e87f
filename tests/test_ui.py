"""Progress in a log file: periodic plain lines, since rich draws nothing there until the end."""

from __future__ import annotations

import io
import time

from rich.console import Console

from trait import ui


def test_progress_prints_periodic_lines_when_not_a_terminal(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(ui, "console", Console(file=out, force_terminal=False, width=120))
    monkeypatch.setenv("TRAIT_PROGRESS_INTERVAL", "0.05")
    with ui.progress() as bar:
        task = bar.add_task("synthesize: passages", total=10)
        bar.advance(task, 3)
        deadline = time.monotonic() + 5
        while "synthesize: passages: 3/10 after" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)
    assert "synthesize: passages: 3/10 after" in out.getvalue()
