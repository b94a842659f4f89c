"""The registry's own forms in a real browser: one person registered (the same ID number again is refused in
words), and an exemption recorded from the person's page before any case asks for one (a stay in hospital
recorded and listed; an absence for work shorter than three months refused in words)."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from tests.browser.test_console import Desk
from tests.conftest import beneficiary_body, id_number, office_today
from tests.support.browser import screenshot


def _ask_for_a_short_work_absence(page, today, reason: str) -> None:
    """Send the exemption form for an absence for work of 30 days, shorter than the rule allows."""
    page.click("#new-exemption summary")
    form = page.locator("#new-exemption form")
    form.locator("select[name=kind]").select_option("work_absence")
    form.locator("input[name=starts_on]").fill(today.isoformat())
    form.locator("input[name=ends_on]").fill((today + timedelta(days=30)).isoformat())
    form.locator("textarea[name=reason]").fill(reason)
    form.locator("button").click()


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
    expect(page.locator("#exemptions")).to_contain_text("本人住院，家属到村委会说明")
    # The person's audit trail holds the exemption too.
    expect(page.locator("table").last).to_contain_text("本人住院，家属到村委会说明")

    _ask_for_a_short_work_absence(page, today, "外出务工")
    expect(page.locator("main")).to_contain_text("外出务工须为 3 至 12 个月")
    assert len(supervisor.get(f"/api/v1/beneficiaries/{person}/exemptions").json()) == 1
    # The refusal says how to get back to the form, and Back finds it as it was left.
    expect(page.locator("#back-to-form")).to_contain_text("已填写的内容仍在")
    screenshot(page, "console", "zh-form-refused")
    page.go_back()
    expect(form.locator("textarea[name=reason]")).to_have_value("外出务工")
    assert len(desk.errors) == 1 and "422" in desk.errors[0]
    # The same refusal in English.
    desk.go("/").click("header button:has-text('English')")
    page = desk.go(f"/people/{person}")
    _ask_for_a_short_work_absence(page, today, "away for work")
    expect(page.locator("#back-to-form")).to_contain_text("what you typed is still there")
    screenshot(page, "console", "en-form-refused")
    desk.go("/").click("header button:has-text('中文')")
    assert len(desk.errors) == 2 and "422" in desk.errors[1]


def test_a_person_is_registered_from_the_registry(api, world, live_url, browser):
    desk = Desk(browser, live_url, "supervisor_a")
    page = desk.go("/people")
    page.click("#register")
    form = page.locator("#new-person")
    form.locator("input[name=id_number]").fill(id_number(world["village_a"], 45))
    form.locator("input[name=name]").fill("赵桂兰")
    form.locator("select[name=program]").select_option("rural_minimum_allowance")
    form.locator("input[name=village_code]").fill(world["village_a"])
    form.locator("input[name=monthly_amount]").fill("335.00")
    form.locator("input[name=home_address]").fill("河西村3组15号")
    screenshot(page, "console", "zh-person-new")
    form.locator("button").click()
    expect(page.locator(".flash.info")).to_contain_text("救助对象已登记")
    expect(page.locator("h1")).to_contain_text("赵桂兰")
    [found] = api.as_("supervisor_a").get("/api/v1/beneficiaries", params={"name": "赵桂兰"}).json()
    assert (found["village_code"], found["monthly_amount"]) == (world["village_a"], "335.00")

    # The same ID number again, in the same region: refused in words, nothing added.
    page = desk.go("/people/new")
    form = page.locator("#new-person")
    form.locator("input[name=id_number]").fill(id_number(world["village_a"], 45))
    form.locator("input[name=name]").fill("赵桂兰")
    form.locator("input[name=village_code]").fill(world["village_a"])
    form.locator("input[name=monthly_amount]").fill("335.00")
    form.locator("button").click()
    expect(page.locator("main")).to_contain_text("该身份证号已登记")
    assert len(api.as_("supervisor_a").get("/api/v1/beneficiaries", params={"name": "赵桂兰"}).json()) == 1
    assert len(desk.errors) == 1 and "422" in desk.errors[0]


def test_a_person_is_found_by_id_number_without_the_number_in_any_address(api, world, live_url, browser):
    supervisor = api.as_("supervisor_a")
    wanted = id_number(world["village_a"], 46)
    supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 46, name="钱玉珍"))
    desk = Desk(browser, live_url, "supervisor_a")
    requested: list[str] = []
    desk.page.on("request", lambda sent: requested.append(f"{sent.url} {sent.headers.get('referer', '')}"))
    page = desk.go("/people")
    page.fill("#find-by-id-number input[name=id_number]", wanted)
    page.click("#find-by-id-number button")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text("钱玉珍")
    screenshot(page, "console", "zh-people-found-by-id")
    page.click("tbody a")
    expect(page.locator("h1")).to_contain_text("钱玉珍")
    # The person's trail tells who looked them up by their number.
    expect(page.locator("table").last).to_contain_text("按身份证号查找")
    # Not in the address bar, the history, nor any request's address or Referer (a proxy logs both).
    assert wanted not in page.url and not [line for line in requested if wanted in line]
    assert wanted not in str(page.evaluate("() => [location.href, document.referrer, history.length]"))

    # The same in English, with a number that cannot be one (a wrong check digit), which finds nobody.
    page = desk.go("/")
    page.click("header button:has-text('English')")
    page = desk.go("/people")
    page.fill("#find-by-id-number input[name=id_number]", wanted)
    page.click("#find-by-id-number button")
    expect(page.locator("tbody")).to_contain_text("钱玉珍")
    screenshot(page, "console", "en-people-found-by-id")
    page.fill("#find-by-id-number input[name=id_number]", wanted[:-1] + ("0" if wanted[-1] != "0" else "1"))
    page.click("#find-by-id-number button")
    expect(page.locator("tbody")).to_contain_text("Nobody matches.")
    page = desk.go("/")
    page.click("header button:has-text('中文')")

    # Someone outside the caller's region is not found.
    outside = Desk(browser, live_url, "supervisor_b")
    page = outside.go("/people")
    page.fill("#find-by-id-number input[name=id_number]", wanted)
    page.click("#find-by-id-number button")
    expect(page.locator("tbody")).to_contain_text("没有符合条件的对象")
    assert not desk.errors and not outside.errors, (desk.errors, outside.errors)
