"""A real browser for tests: Debian's Chromium driven by Playwright, a fake camera fed from a Y4M file,
and screenshots kept per surface (tests/screenshots/<surface>/, git-ignored) for a person to look at.

`playwright install` cannot download browsers here (and CI should not depend on it): the browser is
the distribution's `chromium` package, installed by scripts/ensure-browser.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
from playwright.sync_api import Browser, Page, Playwright

CHROMIUM = Path(os.environ.get("FIELDCHECK_TEST_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
# Quiet, deterministic, offline: no background fetches, no QUIC, no GPU (none in CI), no sandbox
# (tests run as root in containers).
BASE_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def launch_browser(playwright: Playwright, *, fake_video: Path | None = None) -> Browser:
    """Headless Chromium; with fake_video, its camera plays that Y4M file (read when a page opens the camera)."""
    args = list(BASE_ARGS)
    if fake_video is not None:
        args += [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={fake_video}",
        ]
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)


def _rgb_to_i420(frame: np.ndarray) -> bytes:
    """One RGB frame as the Y, U, V planes of 4:2:0 (BT.601, the range Chromium's fake camera assumes)."""
    return cv2.cvtColor(np.ascontiguousarray(frame, dtype=np.uint8), cv2.COLOR_RGB2YUV_I420).tobytes()


def write_y4m(path: Path, frames_rgb: Iterable[np.ndarray], fps: int = 10) -> Path:
    """Write RGB frames (all one even-sided size) as a YUV4MPEG2 clip Chromium's fake camera can play.

    Written to a temporary name and moved into place, so a browser opening the camera never reads
    half a file.
    """
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as out:
        header_written = False
        for frame in frames_rgb:
            height, width = frame.shape[:2]
            if not header_written:
                if width % 2 or height % 2:
                    raise ValueError(f"frame size {width}×{height} must be even for 4:2:0")
                out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
                header_written = True
            out.write(b"FRAME\n")
            out.write(_rgb_to_i420(frame))
        if not header_written:
            raise ValueError("a clip needs at least one frame")
    os.replace(partial, path)
    return path


def screenshot(page: Page, surface: str, name: str) -> Path:
    """Save a full-page screenshot as tests/screenshots/<surface>/<name>.png and return its path."""
    folder = SCREENSHOTS / surface
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_for_images(page: Page) -> None:
    """Wait until every image on the page has loaded: each audited photo view is recorded when its image is fetched."""
    page.wait_for_function("() => [...document.images].every((i) => i.complete && i.naturalWidth > 0)")
