"""Browser fixtures for every surface (the phone app, the console, the field app): one headless Chromium
per run with a fake camera playing `camera_clip`, and phone-sized pages that fail the test on any
console error. They run against the suite's live server and real worker (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.support.browser import launch_browser, write_y4m

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 1}
# A village in the demo county: where the test phone says it is.
HOME_FIX = {"latitude": 27.8312, "longitude": 112.9188, "accuracy": 8}


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def camera_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Y4M file the fake camera plays; a test writes its clip here before its page opens the camera."""
    path = tmp_path_factory.mktemp("camera") / "camera.y4m"
    write_y4m(path, [np.full((480, 640, 3), 128, np.uint8)], fps=10)
    return path


@pytest.fixture(scope="session")
def browser(playwright: Playwright, camera_clip: Path) -> Iterator[Browser]:
    browser = launch_browser(playwright, fake_video=camera_clip)
    yield browser
    browser.close()


class ConsoleErrors(list):
    """Errors the pages of a test logged or threw, as 'url: text'."""

    def __init__(self) -> None:
        super().__init__()
        self.expected: list[str] = []

    def expect(self, text: str) -> None:
        """Accept errors containing text: the browser's own log of a failure the test causes on purpose."""
        self.expected.append(text)

    def _console(self, page: Page, msg) -> None:
        if msg.type == "error" and not any(text in msg.text for text in self.expected):
            self.append(f"{page.url}: {msg.text}")

    def watch(self, page: Page) -> Page:
        page.on("console", lambda msg: self._console(page, msg))
        page.on("pageerror", lambda exc: self.append(f"{page.url}: {exc}"))
        return page


@pytest.fixture
def console_errors() -> Iterator[ConsoleErrors]:
    """Collects console errors of the test's pages; the test fails if any remain at its end."""
    errors = ConsoleErrors()
    yield errors
    assert not errors, "browser console errors:\n" + "\n".join(errors)


@pytest.fixture
def phone_context(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """Make a 360×740 touch-screen context (zh-CN, China's clock unless told) with camera and location at HOME_FIX."""
    contexts: list[BrowserContext] = []

    def make(
        locale: str = "zh-CN", geolocation: dict | None = HOME_FIX, timezone_id: str = "Asia/Shanghai", **options
    ) -> BrowserContext:
        permissions = ["camera", "geolocation"] if geolocation else ["camera"]
        context = browser.new_context(
            **PHONE,
            locale=locale,
            timezone_id=timezone_id,
            geolocation=geolocation,
            permissions=permissions,
            **options,
        )
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def phone_page(phone_context, console_errors: ConsoleErrors) -> Callable[..., Page]:
    """A page in a new phone context whose console errors fail the test."""

    def make(**context_options) -> Page:
        return console_errors.watch(phone_context(**context_options).new_page())

    return make
