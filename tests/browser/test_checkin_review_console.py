"""A check-in the worker sent to review, decided in the console in a real browser: the queue lists it with
its reason, its page shows the frames the decision needs (those the match found closest to the enrolment
and each prompted action's, not the first few of the person holding still) after an audited reason, and
the verdict, with its own reason, counts as the worker's would; both languages."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select, update

from server import db
from server.models import AuditEntry, Checkin, CheckinFrame, CheckinState
from tests.browser.test_console import Desk, every_page_in_both_languages
from tests.support.browser import screenshot, wait_for_images
from tests.support.cases import audit_actions, open_test_case
from tests.support.checkins import check_in, enrolled_person
from tests.support.sessions import genuine_session


def _sent_to_review(app, checkin_id: str) -> dict:
    """The check-in put in review as the worker puts an uncertain match there; returns its stored scores.

    The grey band is rare with the suite's photos, so the worker's verdict on a genuine session is moved
    there; its frames and scores stay the worker's own."""
    with app.app_context():
        session = db.session()
        session.execute(
            update(Checkin)
            .where(Checkin.id == uuid.UUID(checkin_id))
            .values(state=CheckinState.REVIEW, reasons=["face_uncertain"])
        )
        session.commit()
        return session.get(Checkin, uuid.UUID(checkin_id)).scores


def _frame_count(app, checkin_id: str) -> int:
    with app.app_context():
        return db.session().scalar(
            select(func.count()).select_from(CheckinFrame).where(CheckinFrame.checkin_id == uuid.UUID(checkin_id))
        )


def _frame_views(app, checkin_id: str) -> list[tuple[int, str]]:
    """(frame position, reason) of each audited view of the check-in's frames."""
    with app.app_context():
        entries = db.session().scalars(
            select(AuditEntry).where(
                AuditEntry.action == "biometric.viewed",
                AuditEntry.object_type == "checkin_frame",
                AuditEntry.object_id.startswith(f"{checkin_id}:"),
            )
        )
        return [(int(e.object_id.rsplit(":", 1)[1]), e.reason) for e in entries]


@pytest.mark.usefixtures("celery_worker")
def test_a_check_in_in_review_is_decided_in_the_console_from_its_telling_frames(app, api, world, live_url, browser):
    person, phone = enrolled_person(api, world, 61, "obama.jpg", "obama2.jpg")
    first, second = (
        check_in(phone, lambda actions, s=seed: genuine_session("obama3.jpg", actions, seed=s)) for seed in (31, 32)
    )
    assert [first["status"], second["status"]] == ["verified", "verified"]
    scores = _sent_to_review(app, first["id"])
    _sent_to_review(app, second["id"])
    missed = open_test_case(app, person)
    desk = Desk(browser, live_url, "supervisor_a")

    # The queue lists both, the one waiting longest first, with the reason a person reads.
    page = desk.go("/checkins")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("人脸比对结果不确定")
    assert [r.locator("a").first.get_attribute("href").split("/")[-1] for r in rows.all()] == [
        first["id"],
        second["id"],
    ]
    expect(rows.first.locator(f"a[href$='/people/{person}']")).to_have_text("测试61")
    screenshot(page, "console", "zh-checkins-waiting")
    rows.first.locator("a").first.click()
    review_path = desk.path()

    # No face is shown before a reason is given; then the enrolled photos and six chosen frames.
    expect(page.locator("figure img")).to_have_count(0)
    page.fill("input[name=reason]", "核对是否本人")
    page.click("button:has-text('查看照片')")
    frames = page.locator("figure img[src*='/images/checkins/']")
    expect(frames).to_have_count(6)
    wait_for_images(page)
    shown = sorted(int(src.split("/")[-1].split("?")[0]) for src in (f.get_attribute("src") for f in frames.all()))
    # The frames the match found closest, and where each prompted action was seen, are among them.
    acted = {entry["frame"] for entry in scores["actions"].values()}
    assert acted <= set(shown), (acted, shown)
    expect(page.locator("figcaption .badge.ok")).to_have_count(len(scores["best_frame_ids"]))
    assert shown != list(range(6)), "the first six frames are the person holding still"
    assert sorted(p for p, _ in _frame_views(app, first["id"])) == shown
    assert {r for _, r in _frame_views(app, first["id"])} == {"核对是否本人"}
    screenshot(page, "console", "zh-checkin-review")
    with_reason = desk.path()
    every_page_in_both_languages(desk, {"checkins-waiting": "/checkins", "checkin-review": with_reason})

    # A reviewer who needs more opens every frame, each one more audited view under the same reason.
    page = desk.go(with_reason)
    total = _frame_count(app, first["id"])
    assert total > 6
    expect(page.locator("#every-frame")).to_contain_text(f"显示全部 {total} 个画面")
    page.click("#every-frame")
    expect(frames).to_have_count(total)
    expect(page.locator("#every-frame")).to_have_count(0)
    wait_for_images(page)
    assert sorted({p for p, _ in _frame_views(app, first["id"])}) == list(range(total))
    screenshot(page, "console", "zh-checkin-every-frame")

    # Another township's supervisor does not find it.
    elsewhere = Desk(browser, live_url, "supervisor_b")
    expect(elsewhere.go(review_path).locator("h1")).to_have_text("未找到")

    # Verified, with a reason: it counts as a verified check-in, so the missed check-in case closes.
    page = desk.go(review_path)
    page.check("input[name=verdict][value=verified]")
    page.fill("textarea[name=reason]", "与登记照片对比为本人，已电话确认")
    page.click("button:has-text('记录结论')")
    expect(page.locator(".flash.info")).to_contain_text("审核结论已记录")
    expect(page.locator("h3 .badge")).to_have_text("认证通过")
    expect(page.locator("input[name=verdict]")).to_have_count(0)
    assert phone.get(f"/api/v1/checkins/{first['id']}").json()["status"] == "verified"
    assert api.as_("supervisor_a").get(f"/api/v1/cases/{missed}").json()["state"] == "dismissed"
    assert "checkin.review_verified" in audit_actions(app, first["id"])

    # The other one rejected; the queue is empty again.
    page = desk.go("/checkins")
    expect(page.locator("tbody tr")).to_have_count(1)
    page.locator("tbody tr a").first.click()
    page.check("input[name=verdict][value=rejected]")
    page.fill("textarea[name=reason]", "画面中不是本人")
    page.click("button:has-text('记录结论')")
    expect(page.locator("h3 .badge")).to_have_text("已驳回")
    assert phone.get(f"/api/v1/checkins/{second['id']}").json()["status"] == "rejected"
    expect(desk.go("/checkins").locator("tbody")).to_contain_text("没有待审核的认证")
    assert desk.errors == []
