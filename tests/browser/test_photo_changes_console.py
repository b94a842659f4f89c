"""A change to an enrolled person's photos decided in the console, in a real browser: its proposer may only
withdraw it; a second supervisor finds it queued and on the person's page, looks at the photos in use beside
the proposed ones (an audited view), and approves it, or turns one down with a reason; both languages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server import db
from server.models import AuditEntry
from tests.browser.test_console import Desk, every_page_in_both_languages
from tests.conftest import wait_for
from tests.support.browser import screenshot, wait_for_images
from tests.support.checkins import enrolled_person
from tests.support.photos import photo_bytes


def _photo_states(supervisor, person: str) -> list[str]:
    return sorted(p["state"] for p in supervisor.get(f"/api/v1/beneficiaries/{person}/enrolment").json()["photos"])


def _propose(supervisor, person: str, name: str, *, replace: bool) -> dict:
    files = [("photos", (name, photo_bytes(name), "image/jpeg"))]
    answer = supervisor.post(f"/api/v1/beneficiaries/{person}/photos?replace={str(replace).lower()}", files=files)
    assert answer.status_code == 202, answer.text
    return answer.json()["pending_change"]


@pytest.mark.usefixtures("celery_worker")
def test_a_photo_change_is_decided_in_the_console_by_someone_other_than_its_proposer(
    app, api, world, live_url, browser
):
    person, _phone = enrolled_person(api, world, 41, "obama.jpg", "obama2.jpg")
    supervisor = api.as_("supervisor_a")
    change = _propose(supervisor, person, "obama3.jpg", replace=True)
    assert change["kind"] == "replace"
    proposer = Desk(browser, live_url, "supervisor_a")
    reviewer = Desk(browser, live_url, "supervisor_a2")

    # Queued for both; its proposer may withdraw it but not approve it.
    page = proposer.go("/photo-changes")
    row = page.locator("tbody tr", has_text="替换全部照片")
    expect(row).to_have_count(1)
    screenshot(page, "console", "zh-photo-changes-waiting")
    row.locator("a").click()
    pages = {"photo-changes": "/photo-changes", "photo-change": proposer.path()}
    expect(page.locator("#approve-form")).to_have_count(0)
    expect(page.locator(".hint")).to_contain_text("自己提议")
    expect(page.locator("#reject-form button")).to_have_text("撤回这项变更")

    # The overview counts it among what needs a decision.
    expect(reviewer.go("/").locator("#photo-changes-waiting td.num").first).to_have_text("1")

    # The reviewer comes from the person's page, opens the photos with a reason (audited), and approves.
    page = reviewer.go(f"/people/{person}")
    page.click("#pending-photo-change")
    expect(page.locator("#in-use img")).to_have_count(0)
    page.fill("input[name=reason]", "核对新照片是否本人")
    page.click("button:has-text('查看照片')")
    expect(page.locator("#in-use img")).to_have_count(2)
    # A replacement takes both photos in use out of matching.
    expect(page.locator("#in-use .badge")).to_have_count(2)
    expect(page.locator("#proposed img")).to_have_count(1)
    wait_for_images(page)
    screenshot(page, "console", "zh-photo-change-photos")
    with app.app_context():
        viewed = db.session().scalars(select(AuditEntry).where(AuditEntry.action == "biometric.viewed")).all()
        assert {e.reason for e in viewed} == {"核对新照片是否本人"} and len(viewed) == 3
    page.click("#approve-form button")
    expect(page.locator(".flash.info")).to_contain_text("照片变更已批准")
    wait_for(lambda: _photo_states(supervisor, person) == ["encoded", "retired", "retired"])
    # Once approved, the change's photo is the one in use: shown once, as sent with the change (one view, not two).
    page = reviewer.go(f"/people/{person}/photo-changes/{change['id']}")
    page.fill("input[name=reason]", "复查已批准的照片")
    page.click("button:has-text('查看照片')")
    expect(page.locator("#in-use")).to_contain_text("没有其他正在使用的照片")
    expect(page.locator("#proposed img")).to_have_count(1)
    expect(page.locator("#proposed figcaption")).to_contain_text("正在使用")
    wait_for_images(page)
    with app.app_context():
        viewed = (
            db.session()
            .scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "biometric.viewed", AuditEntry.reason == "复查已批准的照片"
                )
            )
            .all()
        )
        assert len(viewed) == 1
    pages["photo-change-approved"] = f"/people/{person}/photo-changes/{change['id']}"

    # A second proposal, turned down: without a reason the form is refused; with one, the photo in use stays.
    second = _propose(supervisor, person, "obama.jpg", replace=False)
    page = reviewer.go(f"/people/{person}/photo-changes/{second['id']}")
    page.locator("#reject-form textarea").evaluate("(area) => area.removeAttribute('required')")
    page.click("#reject-form button")
    expect(page.locator("main")).to_contain_text("此项必填")
    assert len(reviewer.errors) == 1 and "422" in reviewer.errors[0]
    reviewer.errors.clear()
    assert supervisor.get(f"/api/v1/beneficiaries/{person}/enrolment").json()["pending_change"]["id"] == second["id"]
    page = reviewer.go(f"/people/{person}/photo-changes/{second['id']}")
    page.fill("#reject-form textarea", "照片不是本人")
    page.click("#reject-form button")
    expect(page.locator(".flash.info")).to_contain_text("照片变更已退回")
    expect(page.locator("#pending-photo-change")).to_have_count(0)
    enrolment = supervisor.get(f"/api/v1/beneficiaries/{person}/enrolment").json()
    assert enrolment["pending_change"] is None
    assert _photo_states(supervisor, person) == ["encoded", "retired", "retired", "retired"]
    expect(reviewer.go("/photo-changes").locator("tbody")).to_contain_text("没有待批准的照片变更")
    # The person's audit trail tells who changed the photos their check-ins are matched against, and who looked.
    trail = reviewer.go(f"/people/{person}").locator("table").last
    for action in ("提议照片变更", "照片变更已批准", "照片变更已退回", "查看照片", "建模照片停用", "建模照片处理完成"):
        expect(trail).to_contain_text(action)
    # The reasons the system gave, in words too.
    expect(trail).to_contain_text("已被批准的新照片替换")
    expect(trail).not_to_contain_text("replaced by approved photos")
    pages["person-after-photo-changes"] = f"/people/{person}"

    pages["photo-change-rejected"] = f"/people/{person}/photo-changes/{second['id']}"
    every_page_in_both_languages(reviewer, pages)
    for desk in (proposer, reviewer):
        assert not desk.errors, desk.errors
