"""The run every report test reads (see report_kit.py), built, collected and rendered once per module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from report_kit import build_run

from trait.report import write_report
from trait.report.collect import collect


@pytest.fixture(scope="module")
def report_run(tmp_path_factory) -> Path:
    return build_run(tmp_path_factory.mktemp("report") / "runs" / "demo")


@pytest.fixture(scope="module")
def report_data(report_run) -> dict[str, Any]:
    return collect(report_run)


@pytest.fixture(scope="module")
def report_html(report_run) -> str:
    """The page, written where ``trait report`` writes it (``<run>/report.html``)."""
    return write_report(report_run).read_text()
