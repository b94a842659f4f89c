"""The console over HTTPS, as an office serves it. There the CSRF check also wants a Referer from the console
itself, which the browser sends only as the pages' Referrer-Policy lets it: with `no-referrer`, nobody could
sign in."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_console import Desk


def test_over_https_a_supervisor_signs_in_and_out(live_https_url, browser, world):
    desk = Desk(browser, live_https_url, "supervisor_a")
    session = next(c for c in desk.context.cookies() if c["name"] == "fieldcheck_console")
    assert session["secure"] and session["httpOnly"]
    response = desk.page.goto(f"{live_https_url}/")
    assert response.headers["strict-transport-security"].startswith("max-age=")
    desk.page.click("header form button")
    expect(desk.page.locator("input[name=username]")).to_be_visible()
    assert desk.go("/").url.startswith(f"{live_https_url}/login")
    assert not desk.errors, desk.errors
