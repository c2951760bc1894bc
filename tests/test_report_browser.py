"""The report renders in a real headless browser (Chromium), with its styles and figures.

Needs a Chromium binary (`apt-get install -y chromium`); skipped with a reason otherwise.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from matplotlib.image import imread
from test_report import FLAT, make_session

from imu.report import build_report

BROWSER = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
    None,
)
HEADER_RGB = np.array([0x0B, 0x39, 0x54]) / 255.0  # the page header's CSS background


def screenshot(html_path, png_path, profile_dir, height=2000):
    subprocess.run(
        [
            BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile_dir}", f"--screenshot={png_path}",
            f"--window-size=1280,{height}", html_path.as_uri(),
        ],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return imread(png_path)[:, :, :3]


@pytest.mark.skipif(BROWSER is None, reason="no Chromium binary (apt-get install -y chromium)")
def test_report_renders_in_headless_chromium(tmp_path):
    session = make_session(
        [[50, 52, 54, 56, 58], FLAT, FLAT],
        rounded=lambda s, r: s == 1 and r == 5,
        p_rounded=lambda s, r: 0.9 if s == 1 and r == 5 else 0.1,
    )
    html_path = tmp_path / "report.html"
    html_path.write_text(build_report([session]).html, encoding="utf-8")
    image = screenshot(html_path, tmp_path / "shot.png", tmp_path / "profile")
    assert image.shape[:2] == (2000, 1280)
    # the inline CSS applied: the header band has its colour across the page width
    np.testing.assert_allclose(image[20, 10], HEADER_RGB, atol=0.02)
    np.testing.assert_allclose(image[20, 1200], HEADER_RGB, atol=0.02)
    # below the header the page is mostly white paper with drawn content (text, figures)
    body = image[150:]
    white = np.all(body > 0.97, axis=2).mean()
    assert 0.5 < white < 0.98
    # the inline SVG figures rendered: Okabe-Ito orange (twist trace, set 2 line) and the
    # light blue of rep shading are drawn only by the figures, never by the page's CSS
    orange = np.array([0xE6, 0x9F, 0x00]) / 255.0
    rep_shade = 1 - 0.22 * (1 - np.array([0x56, 0xB4, 0xE9]) / 255.0)  # alpha 0.22 on white
    assert (np.abs(body - orange).max(axis=2) < 0.06).sum() > 20  # thin anti-aliased lines
    assert (np.abs(body - rep_shade).max(axis=2) < 0.03).sum() > 5000
