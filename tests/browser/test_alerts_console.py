"""A further phone issued for a person reaches the region's supervisors in the console, in a real browser:
counted on the overview, listed under alerts with who issued it, marked seen once (audited), and not shown
to another township; both languages."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect
from sqlalchemy import select

from server import db
from server.models import AuditEntry, StaffUser
from tests.browser.test_console import Desk, every_page_in_both_languages
from tests.conftest import beneficiary_body
from tests.support.browser import screenshot
from tests.support.checkins import activate


def test_a_further_phone_is_an_alert_a_supervisor_marks_seen(app, api, world, live_url, browser):
    worker = api.as_("worker_a")
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 43)).json()["id"]
    first = supervisor.post(f"/api/v1/beneficiaries/{person}/devices", json={}).json()["activation_code"]
    assert activate(api, first).status_code == 200
    # A second phone while the first still acts for the person: the supervisors are told.
    assert worker.post(f"/api/v1/beneficiaries/{person}/devices", json={}).status_code == 201
    reviewer = Desk(browser, live_url, "supervisor_a2")

    expect(reviewer.go("/").locator("#alerts-unseen td.num").first).to_have_text("1")
    page = reviewer.go("/alerts")
    row = page.locator("#alerts tbody tr[data-unseen]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("为此人另发了一部手机")
    expect(row).to_contain_text("此前仍在用的手机：1 部")
    expect(row).to_contain_text("worker_a")
    screenshot(page, "console", "zh-alerts-unseen")
    row.locator("button").click()
    expect(page.locator(".flash.info")).to_contain_text("已标记为已查看")
    expect(page.locator("#alerts tbody tr[data-unseen]")).to_have_count(0)
    expect(reviewer.go("/").locator("#alerts-unseen td.num").first).to_have_text("0")
    with app.app_context():
        session = db.session()
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "staff_notification.seen")).all()
        assert session.get(StaffUser, uuid.UUID(entry.actor_id)).username == "supervisor_a2"

    # Another township's supervisor is not told.
    other = Desk(browser, live_url, "supervisor_b")
    expect(other.go("/alerts").locator("#alerts tbody")).to_contain_text("没有提醒")

    every_page_in_both_languages(reviewer, {"alerts": "/alerts"})
    for desk in (reviewer, other):
        assert not desk.errors, desk.errors
