"""Retention: the beat duty and `fieldcheck purge` remove expired biometric objects and their rows,
and keep what a case or a review still needs."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from server import db
from server.context import Ctx
from server.models import (
    AuditEntry,
    Beneficiary,
    BeneficiaryStatus,
    CaseKind,
    CaseState,
    Checkin,
    CheckinFrame,
    CheckinState,
    EnrolmentPhoto,
    FaceTemplate,
    ReviewCase,
    utcnow,
)
from server.queue import enqueue
from server.services import retention
from server.services.audit import first_broken_link
from server.services.cases import open_case
from tests.conftest import office_today, wait_for
from tests.support.checkins import check_in, enrolled_person
from tests.support.cli import invoke
from tests.support.sessions import genuine_session

pytestmark = pytest.mark.usefixtures("celery_worker")


def _frame_keys(session, checkin_id: str) -> list[str]:
    return list(
        session.scalars(select(CheckinFrame.object_key).where(CheckinFrame.checkin_id == uuid.UUID(checkin_id)))
    )


def _purges(session) -> list[dict]:
    purged = select(AuditEntry).where(AuditEntry.action == "retention.purged")
    entries = session.scalars(purged.order_by(AuditEntry.seq))
    return [entry.details for entry in entries]


def _age(app, checkin_id: str, **values) -> None:
    with app.app_context():
        session = db.session()
        session.execute(update(Checkin).where(Checkin.id == uuid.UUID(checkin_id)).values(**values))
        session.commit()


def test_a_purge_removes_expired_frames_and_keeps_those_in_review_or_on_an_open_case(app, api, world):
    person, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    checkin = check_in(phone, lambda actions: genuine_session("obama3.jpg", actions, seed=1))
    assert checkin["status"] == "verified"
    with app.app_context():
        ctx = Ctx.current()
        keys = _frame_keys(ctx.session, checkin["id"])
        assert keys and all(ctx.store.exists(key) for key in keys)

    # Decided 91 days ago but back with a reviewer: kept. Run as the beat runs it, by the worker.
    _age(app, checkin["id"], decided_at=utcnow() - timedelta(days=91), state=CheckinState.REVIEW)
    with app.app_context():
        assert enqueue("fieldcheck.purge_expired_biometrics")
        wait_for(lambda: _purges(db.session()))
        assert _purges(db.session())[0]["checkin_frames"] == 0

    # Verified, but the person has an open case the check-in may be evidence for: kept.
    _age(app, checkin["id"], state=CheckinState.VERIFIED)
    with app.app_context():
        session = db.session()
        case = open_case(
            Ctx.current(),
            kind=CaseKind.LOCATION_ANOMALY,
            beneficiary=session.get(Beneficiary, uuid.UUID(person)),
            dedupe_key=f"test:{person}",
            summary="a check-in far from home",
            details={"checkin_id": checkin["id"]},
        )
        session.commit()
    assert "purged 0 check-in frames" in invoke(app, "purge").output
    with app.app_context():
        ctx = Ctx.current()
        assert _frame_keys(ctx.session, checkin["id"]) == keys
        assert all(ctx.store.exists(key) for key in keys)
        ctx.session.execute(update(ReviewCase).where(ReviewCase.id == case.id).values(state=CaseState.DISMISSED))
        ctx.session.commit()

    # The case closed: objects and rows go; running again finds nothing.
    result = invoke(app, "purge")
    assert result.exit_code == 0, result.output
    assert f"purged {len(keys)} check-in frames" in result.output
    assert "purged 0 check-in frames" in invoke(app, "purge").output
    with app.app_context():
        ctx = Ctx.current()
        session = ctx.session
        assert _frame_keys(session, checkin["id"]) == []
        assert not any(ctx.store.exists(key) for key in keys)
        # The verdict and scores stay, and so does the template kept from the check-in: a descriptor,
        # not a frame, kept while the person is enrolled.
        verified = session.get(Checkin, uuid.UUID(checkin["id"]))
        assert verified.state == CheckinState.VERIFIED and verified.scores
        kept = select(func.count()).where(
            FaceTemplate.beneficiary_id == uuid.UUID(person), FaceTemplate.checkin_id == verified.id
        )
        assert session.scalar(kept) == 1
        assert [p["checkin_frames"] for p in _purges(session)] == [0, 0, len(keys), 0]
        assert first_broken_link(ctx) is None

        # Terminated more than a year ago, no case open: enrolment photos and every template go.
        mine = EnrolmentPhoto.beneficiary_id == uuid.UUID(person)
        photo_keys = list(session.scalars(select(EnrolmentPhoto.object_key).where(mine)))
        session.execute(
            update(Beneficiary)
            .where(Beneficiary.id == uuid.UUID(person))
            .values(status=BeneficiaryStatus.TERMINATED, terminated_on=utcnow().date() - timedelta(days=366))
        )
        session.commit()
    result = invoke(app, "purge")
    assert f"{len(photo_keys)} enrolment photos" in result.output, result.output
    with app.app_context():
        ctx = Ctx.current()
        session = ctx.session
        assert not any(ctx.store.exists(key) for key in photo_keys)
        assert session.scalar(select(func.count()).where(FaceTemplate.beneficiary_id == uuid.UUID(person))) == 0
        assert session.scalar(select(func.count()).where(mine)) == 0


def test_a_batch_ending_inside_a_check_in_leaves_that_check_in_whole_for_the_next_run(app, api, world):
    _, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    first, second = (check_in(phone, lambda a, s=seed: genuine_session("obama3.jpg", a, seed=s)) for seed in (3, 4))
    # Whatever their verdicts, both final and old enough.
    for checkin in (first, second):
        _age(app, checkin["id"], decided_at=utcnow() - timedelta(days=91), state=CheckinState.VERIFIED)
    with app.app_context():
        ctx = Ctx.current()
        keys = {c["id"]: _frame_keys(ctx.session, c["id"]) for c in (first, second)}
        # A batch of the first check-in's frames and one of the second's.
        small = dataclasses.replace(ctx.settings.retention, batch=len(keys[first["id"]]) + 1)
        narrow = dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, retention=small))
        assert retention.purge(narrow, now=utcnow(), today=office_today()).checkin_frames == len(keys[first["id"]])
        ctx.session.commit()
        assert _frame_keys(ctx.session, first["id"]) == []
        assert _frame_keys(ctx.session, second["id"]) == keys[second["id"]]
        assert ctx.store.exists(keys[second["id"]][0])
        # (The next run with the usual batch: the second check-in may have more frames than the narrow one.)
        assert retention.purge(ctx, now=utcnow(), today=office_today()).checkin_frames == len(keys[second["id"]])
        ctx.session.commit()
        assert _frame_keys(ctx.session, second["id"]) == []
        assert not ctx.store.exists(keys[second["id"]][0])


def test_two_purges_at_once_share_the_work(app, api, world):
    _, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    checkin = check_in(phone, lambda actions: genuine_session("obama3.jpg", actions, seed=2))
    _age(app, checkin["id"], decided_at=utcnow() - timedelta(days=91))
    with app.app_context():
        keys = _frame_keys(db.session(), checkin["id"])
    results: dict[str, int] = {}
    locked = threading.Event()

    def run(name: str, hold: threading.Event | None = None) -> None:
        with app.app_context():
            ctx = Ctx.current()
            results[name] = retention.purge(ctx, now=utcnow(), today=office_today()).checkin_frames
            if hold is not None:
                # The first run keeps its row locks (its objects already deleted) while the second one starts.
                locked.set()
                hold.wait(30)
            ctx.session.commit()

    release = threading.Event()
    first = threading.Thread(target=run, args=("first", release))
    first.start()
    assert locked.wait(30)
    second = threading.Thread(target=run, args=("second",))
    second.start()
    # The second run skips the locked rows, then queues behind the first at the audit log's head.
    second.join(2)
    release.set()
    first.join(30)
    second.join(30)

    assert results == {"first": len(keys), "second": 0}
    with app.app_context():
        ctx = Ctx.current()
        assert _frame_keys(ctx.session, checkin["id"]) == []
        assert not any(ctx.store.exists(key) for key in keys)
        assert [p["checkin_frames"] for p in _purges(ctx.session)] == [len(keys), 0]
        assert first_broken_link(ctx) is None
