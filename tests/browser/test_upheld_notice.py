"""The answer to a turned-down appeal, printed from the console: a 复核决定告知书 that points to
administrative reconsideration, not to another review by the same office."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.api.test_suspensions import _suspend
from tests.browser.test_console import Desk
from tests.conftest import beneficiary_body
from tests.support.browser import screenshot
from tests.support.cases import open_test_case


def test_an_upheld_suspension_is_answered_with_a_printable_notice(app, api, world, live_url, browser: Browser):
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1, name="孙桂兰"))
    case_id = open_test_case(app, person.json()["id"])
    suspension = _suspend(api, case_id, "2026-12-01")
    supervisor.post(f"/api/v1/suspensions/{suspension['id']}/appeal", json={"reason": "女儿说她当时在住院"})
    _suspend(api, case_id, "2026-12-01")

    desk = Desk(browser, live_url, "supervisor_a")
    page = desk.go(f"/suspensions/{suspension['id']}")
    page.click("a:has-text('复核决定：维持暂停发放')")
    notice = page.locator("article.notice")
    expect(notice.locator("h1")).to_have_text("复核决定告知书")
    expect(notice).to_contain_text("经复核，维持自2026年12月1日起暂停发放救助金的决定")
    expect(notice).to_contain_text("申请行政复议截止日期")
    page.emulate_media(media="print")
    screenshot(page, "console", "zh-upheld-notice-print")
    assert desk.errors == []
    desk.context.close()
