"""Check-in intake: frames refused from their headers or a reduced decode, and submissions sent twice at once."""

import dataclasses
import struct
import threading
import uuid

import pytest
from sqlalchemy import func, select, text

from server import db
from server.models import AuditEntry, Checkin, CheckinFrame
from tests.conftest import wait_for
from tests.support.checkins import actions_of, enrolled_person, new_challenge, submit
from tests.support.sessions import genuine_session

pytestmark = pytest.mark.usefixtures("celery_worker")


def _claiming(jpeg: bytes, width: int, height: int) -> bytes:
    """The JPEG with the size in its frame header replaced; its image data stays what it was."""
    start = next(i for i in range(len(jpeg) - 1) if jpeg[i] == 0xFF and jpeg[i + 1] in (0xC0, 0xC1, 0xC2))
    # Marker, length, precision, then height and width.
    return jpeg[: start + 5] + struct.pack(">HH", height, width) + jpeg[start + 9 :]


def _objects(app) -> set[str]:
    """The keys of the check-in frames in the object store (earlier tests' among them: it is not emptied)."""
    root = app.extensions["fieldcheck.store"].root
    found = (root / "checkins").rglob("*") if (root / "checkins").exists() else []
    return {path.relative_to(root).as_posix() for path in found if path.is_file()}


def _frame_keys(app) -> set[str]:
    with app.app_context():
        return set(db.session().scalars(select(CheckinFrame.object_key)))


def test_a_frame_cut_inside_its_image_data_is_refused_and_the_challenge_stays_usable(app, api, world):
    _person, phone = enrolled_person(api, world, 1, "obama.jpg")
    challenge = new_challenge(phone)
    frames = genuine_session("obama2.jpg", actions_of(challenge), seed=11)
    whole = frames[2].jpeg
    # Its header is whole (the size is read from it), three fifths of its compressed data are there.
    cut = dataclasses.replace(frames[2], jpeg=whole[: len(whole) * 3 // 5])
    before = _objects(app)
    response = submit(phone, challenge, [*frames[:2], cut, *frames[3:]])
    assert (response.status_code, response.json()["errors"]) == (422, {"frames.2": ["truncated_image"]})
    assert _objects(app) == before
    assert submit(phone, challenge, frames).status_code == 202


def test_a_header_claiming_a_huge_image_is_refused_before_anything_is_decoded(api, world):
    _person, phone = enrolled_person(api, world, 1, "obama.jpg")
    challenge = new_challenge(phone)
    frames = genuine_session("obama2.jpg", actions_of(challenge), seed=12)
    # 60,000 × 60,000 pixels (10.8 GB decoded) over a few KB of data: decoding it would have found the data
    # short, so the answer being the size shows it was refused from the header.
    bomb = dataclasses.replace(frames[1], jpeg=_claiming(frames[1].jpeg, 60_000, 60_000))
    # Just over the intake's 4,000,000-pixel limit.
    large = dataclasses.replace(frames[3], jpeg=_claiming(frames[3].jpeg, 2_001, 2_000))
    response = submit(phone, challenge, [frames[0], bomb, frames[2], large, *frames[4:]])
    assert response.status_code == 422
    assert response.json()["errors"] == {"frames.1": ["image_too_large"], "frames.3": ["image_too_large"]}


def _held_audit_log(app):
    """A transaction holding the audit log's head: every submission stops at its audit entry until it ends."""
    with app.app_context():
        connection = db.engine().connect()
    transaction = connection.begin()
    connection.execute(text("SELECT 1 FROM audit_chain_head FOR UPDATE"))
    return connection, transaction


def _both_waiting(app) -> None:
    """Until two backends of this database wait for a lock: one for the audit log, one for the other request."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0"
    )
    with app.app_context():
        session = db.session()

        def two() -> bool:
            # A new transaction each time: one sees the activity of the moment it began.
            try:
                return session.scalar(waiting) == 2
            finally:
                session.rollback()

        wait_for(two, timeout=30, interval=0.02)


def _at_once(app, *sends):
    """The responses of submissions sent while the audit log is held, so that both are inside submit at once."""
    responses: list = [None] * len(sends)

    def send(index: int) -> None:
        responses[index] = sends[index]()

    connection, transaction = _held_audit_log(app)
    threads = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(len(sends))]
    try:
        for thread in threads:
            thread.start()
        _both_waiting(app)
    finally:
        # A failure must not leave the lock held: the next test's cleanup would wait for it for ever.
        transaction.rollback()
        connection.close()
        for thread in threads:
            thread.join(timeout=60)
    return responses


def _stored(app) -> tuple[int, int]:
    """How many check-ins there are, and audit entries of one received."""
    with app.app_context():
        session = db.session()
        return (
            session.scalar(select(func.count()).select_from(Checkin)),
            session.scalar(select(func.count()).where(AuditEntry.action == "checkin.received")),
        )


def test_the_same_check_in_sent_twice_at_once_is_stored_once(app, api, world):
    _person, phone = enrolled_person(api, world, 1, "obama.jpg")
    challenge = new_challenge(phone)
    frames = genuine_session("obama2.jpg", actions_of(challenge), seed=13)
    client_id = uuid.uuid4().hex
    before = _objects(app)
    first, second = _at_once(
        app,
        lambda: submit(phone, challenge, frames, client_id=client_id),
        lambda: submit(phone, challenge, frames, client_id=client_id),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 202]
    assert first.json()["id"] == second.json()["id"]
    assert _stored(app) == (1, 1)
    # The frames of the request that lost were removed again.
    assert _objects(app) - before == _frame_keys(app)


def test_a_client_id_taken_at_the_same_moment_by_another_challenge_is_refused(app, api, world):
    _person, phone = enrolled_person(api, world, 1, "obama.jpg")
    challenges = [new_challenge(phone), new_challenge(phone)]
    sessions = [genuine_session("obama2.jpg", actions_of(c), seed=14 + i) for i, c in enumerate(challenges)]
    client_id = uuid.uuid4().hex
    before = _objects(app)
    responses = _at_once(
        app,
        lambda: submit(phone, challenges[0], sessions[0], client_id=client_id),
        lambda: submit(phone, challenges[1], sessions[1], client_id=client_id),
    )
    assert sorted(r.status_code for r in responses) == [202, 409]
    refused = next(r for r in responses if r.status_code == 409)
    assert refused.json()["errors"] == {"client_id": ["client_id_reused"]}
    assert _stored(app) == (1, 1)
    assert _objects(app) - before == _frame_keys(app)
