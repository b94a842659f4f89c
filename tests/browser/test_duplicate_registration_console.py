"""A duplicate registration resolved in a real browser: a county supervisor proposes the transfer from the case
page, the county admin approves it, and neither page logs an error."""

from __future__ import annotations

from playwright.sync_api import Browser, expect
from sqlalchemy import select

from server import db
from server.models import ReviewCase
from tests.browser.test_console import Desk, every_page_in_both_languages
from tests.conftest import beneficiary_body, id_number
from tests.support.browser import screenshot
from tests.support.cases import add_supervisor
from worker.tasks import open_duplicate_registration_cases


def test_the_county_resolves_a_duplicate_registration_in_the_console(app, api, world, live_url, browser: Browser):
    reviewer_name = add_supervisor(app, world["county"])
    api.as_("supervisor_a").post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1, name="赵一"))
    moved = beneficiary_body(world["village_b"], 2, name="赵一", id_number=id_number(world["village_a"], 1))
    assert api.as_("supervisor_b").post("/api/v1/beneficiaries", json=moved).status_code == 201
    with app.app_context():
        open_duplicate_registration_cases()
        case_id = str(db.session().scalar(select(ReviewCase.id).where(ReviewCase.kind == "duplicate_registration")))

    reviewer = Desk(browser, live_url, reviewer_name)
    page = reviewer.go("/cases?kind=duplicate_registration")
    page.click(f"a[href='/cases/{case_id}']")
    expect(page.locator("#duplicate-registration")).to_contain_text("原登记")
    expect(page.locator("#duplicate-registration tbody tr").first).to_contain_text("赵一")
    screenshot(page, "console", "duplicate-registration-case")
    page.click("summary:has-text('提议转移')")
    form = page.locator("details[open] form")
    form.locator("textarea[name=reason]").fill("本人十月迁入青山乡，两乡镇已核实")
    form.locator("button[type=submit]").click()
    expect(page.locator("#pending")).to_contain_text("提议转移")

    admin = Desk(browser, live_url, "admin")
    page = admin.go(f"/cases/{case_id}")
    page.locator("#pending input[name=reason]").first.fill("同意")
    page.click("#pending button.danger")
    expect(page.locator("dl.facts")).to_contain_text("已转移：本人迁居")
    screenshot(page, "console", "duplicate-registration-transferred")
    every_page_in_both_languages(reviewer, {"duplicate-registration-case": f"/cases/{case_id}"})
    assert reviewer.errors == admin.errors == []
    reviewer.context.close()
    admin.context.close()
