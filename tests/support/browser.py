"""Real-browser tests: Playwright driving Debian's Chromium, a Y4M camera clip writer, and screenshots.

The function names are the contract between the lanes that test in a browser (phone, console).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from playwright.sync_api import Browser, Page, Playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"


def launch_browser(playwright: Playwright, *, fake_video: Path | None = None) -> Browser:
    """Headless Chromium from the system; with a clip, a fake camera that plays it (looping)."""
    args = list(ARGS)
    if fake_video is not None:
        args += [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={fake_video}",
        ]
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)


def write_y4m(path: Path, frames_rgb: list[np.ndarray], fps: int = 10) -> Path:
    """Write RGB frames (all one even size) as a 4:2:0 Y4M clip, the format Chromium's fake camera reads."""
    height, width = frames_rgb[0].shape[:2]
    with open(path, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames_rgb:
            rgb = frame.astype(np.float32)
            r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
            # BT.601 full range, as C420jpeg means.
            y = 0.299 * r + 0.587 * g + 0.114 * b
            u = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
            v = 0.5 * r - 0.418688 * g - 0.081312 * b + 128

            def half(plane: np.ndarray) -> np.ndarray:
                return plane.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))

            fh.write(b"FRAME\n")
            for plane in (y, half(u), half(v)):
                fh.write(np.clip(plane.round(), 0, 255).astype(np.uint8).tobytes())
    return path


def screenshot(page: Page, surface: str, name: str) -> Path:
    """A full-page PNG in tests/screenshots/<surface>/<name>.png (git-ignored) to look at after the run."""
    folder = SCREENSHOTS / surface
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
