"""``trait report``: one self-contained HTML page for a run."""

from __future__ import annotations

from pathlib import Path


def write_report(run_dir: str | Path, out: str | Path | None = None, domain: str | None = None) -> Path:
    """``domain``: the domain's name (``cfg.domain.name``); without it, read from the run's step configs."""
    from trait.report.collect import collect
    from trait.report.html import render

    run_dir = Path(run_dir)
    return render(collect(run_dir, domain), Path(out) if out else run_dir / "report.html")
