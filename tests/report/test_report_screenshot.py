"""The page as a browser draws it: headless Chromium renders the report offline and the screenshot holds
text, tables and plots down the page, not a blank or a one-line error. Skipped without Chromium
(Debian: ``apt-get install chromium``)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

BROWSER = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
WIDTH, HEIGHT = 1200, 4000


@pytest.mark.skipif(BROWSER is None, reason="no headless Chromium on this machine")
def test_headless_chromium_draws_the_whole_report(report_run, report_html, tmp_path):
    shot = tmp_path / "report.png"
    subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
                    f"--window-size={WIDTH},{HEIGHT}", (report_run / "report.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.shape == (HEIGHT, WIDTH)
    ink = pixels < 200  # text, borders, plot bars: anything clearly darker than the page
    assert 0.01 < ink.mean() < 0.5, ink.mean()  # drawn, and not an error page filled with colour
    # drawn all the way down: every 500-pixel band of the page's first 3,500 pixels holds some ink
    bands = [ink[y: y + 500].mean() for y in range(0, 3500, 500)]
    assert min(bands) > 0.002, bands
    assert len(np.unique(pixels)) > 150  # anti-aliased text and plots, not a flat fill
