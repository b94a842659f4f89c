"""An exemption recorded from the person's page before any case asks for one, in a real browser: a stay in
hospital is recorded and listed, an absence for work shorter than three months is refused in words."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from tests.browser.test_console import Desk
from tests.conftest import beneficiary_body, office_today
from tests.support.browser import screenshot


def test_an_exemption_is_recorded_from_the_persons_page(api, world, live_url, browser):
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 44)).json()["id"]
    desk = Desk(browser, live_url, "supervisor_a")
    today = office_today()

    page = desk.go(f"/people/{person}")
    page.click("#new-exemption summary")
    form = page.locator("#new-exemption form")
    form.locator("select[name=kind]").select_option("hospitalisation")
    form.locator("input[name=starts_on]").fill(today.isoformat())
    form.locator("input[name=ends_on]").fill((today + timedelta(days=40)).isoformat())
    form.locator("textarea[name=evidence]").fill("县人民医院住院证明")
    form.locator("textarea[name=reason]").fill("本人住院，家属到村委会说明")
    screenshot(page, "console", "zh-person-new-exemption")
    form.locator("button").click()
    expect(page.locator(".flash.info")).to_contain_text("豁免已登记")
    [granted] = supervisor.get(f"/api/v1/beneficiaries/{person}/exemptions").json()
    assert (granted["kind"], granted["starts_on"]) == ("hospitalisation", today.isoformat())
    expect(page.locator("table", has_text="本人住院")).to_contain_text("住院")

    page.click("#new-exemption summary")
    form.locator("select[name=kind]").select_option("work_absence")
    form.locator("input[name=starts_on]").fill(today.isoformat())
    form.locator("input[name=ends_on]").fill((today + timedelta(days=30)).isoformat())
    form.locator("textarea[name=reason]").fill("外出务工")
    form.locator("button").click()
    expect(page.locator("main")).to_contain_text("外出务工须为 3 至 12 个月")
    assert len(supervisor.get(f"/api/v1/beneficiaries/{person}/exemptions").json()) == 1
    assert len(desk.errors) == 1 and "422" in desk.errors[0]
