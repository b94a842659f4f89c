"""A check-in's frames, stored together as one object, each read back by a reviewer exactly as the phone sent it."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, update

from server import db
from server.context import Ctx
from server.models import CheckinFrame
from server.services import biometrics
from tests.support.checkins import actions_of, enrolled_person, new_challenge, submit
from tests.support.sessions import genuine_session, with_light_phase

pytestmark = pytest.mark.usefixtures("celery_worker")


def _stored_keys(app, checkin_id: str) -> list[str]:
    with app.app_context():
        query = select(CheckinFrame.object_key).where(CheckinFrame.checkin_id == uuid.UUID(checkin_id))
        return list(db.session().scalars(query.order_by(CheckinFrame.position)))


def _frame(reviewer, checkin_id: str, position: int, reason: str | None = "检查认证照片"):
    query = {"reason": reason} if reason else {}
    return reviewer.get(f"/images/checkins/{checkin_id}/{position}", params=query)


def test_each_frame_reads_back_as_sent_from_the_one_object_its_check_in_is_stored_in(app, api, world, console):
    _person, phone = enrolled_person(api, world, 31, "obama.jpg")
    challenge = new_challenge(phone)
    frames = with_light_phase(genuine_session("obama2.jpg", actions_of(challenge), seed=31), challenge["light"])
    response = submit(phone, challenge, frames, light_phase=False)
    assert response.status_code == 202, response.text
    checkin_id = response.json()["id"]

    keys = _stored_keys(app, checkin_id)
    assert len(keys) == len(frames) > 5
    assert set(keys) == {f"checkins/{checkin_id}"}
    reviewer = console("supervisor_a")
    for position, frame in enumerate(frames):
        shown = _frame(reviewer, checkin_id, position)
        assert (shown.status_code, shown.headers["Content-Type"]) == (200, "image/jpeg")
        assert shown.content == frame.jpeg
    assert _frame(reviewer, checkin_id, len(frames)).status_code == 404
    assert _frame(reviewer, checkin_id, 0, reason=None).status_code == 422


def test_a_frame_stored_before_bundling_in_an_object_of_its_own_still_reads_back(app, api, world, console):
    _person, phone = enrolled_person(api, world, 32, "obama.jpg")
    challenge = new_challenge(phone)
    frames = with_light_phase(genuine_session("obama2.jpg", actions_of(challenge), seed=32), challenge["light"])
    checkin_id = submit(phone, challenge, frames, light_phase=False).json()["id"]
    # The layout of earlier releases: the frame's own object (under its check-in's id then), no byte range.
    own_key = f"checkins/{uuid.uuid4()}/2"
    with app.app_context():
        session = db.session()
        biometrics.put(Ctx.current(), key=own_key, data=frames[2].jpeg)
        session.execute(
            update(CheckinFrame)
            .where(CheckinFrame.checkin_id == uuid.UUID(checkin_id), CheckinFrame.position == 2)
            .values(object_key=own_key, byte_offset=None, byte_length=None)
        )
        session.commit()

    reviewer = console("supervisor_a")
    assert _frame(reviewer, checkin_id, 2).content == frames[2].jpeg
    assert _frame(reviewer, checkin_id, 3).content == frames[3].jpeg
