"""`fieldcheck device checkin`: a recorded video through the phone's protocol against the live server."""

from __future__ import annotations

import uuid

import cv2
import pytest
from sqlalchemy import select

from server import db, device
from server.models import Checkin, CheckinChallenge, CheckinFrame
from tests.support.checkins import enrolled_person
from tests.support.cli import invoke
from tests.support.sessions import decoded, still_photo_session

FPS = 10


def _still_video(path, seconds: float) -> None:
    """A printed photo held in front of the camera, recorded as MJPEG."""
    bgr = cv2.cvtColor(decoded(still_photo_session("obama.jpg", ["blink"])[:1])[0], cv2.COLOR_RGB2BGR)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (bgr.shape[1], bgr.shape[0]))
    for _ in range(int(seconds * FPS)):
        writer.write(bgr)
    writer.release()


@pytest.mark.usefixtures("celery_worker")
def test_a_recorded_photo_goes_through_the_protocol_and_is_rejected(app, api, world, live_url, tmp_path):
    person, _phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    code = api.as_("supervisor_a").post(f"/api/v1/beneficiaries/{person}/devices", json={}).json()["activation_code"]
    video = tmp_path / "photo.avi"
    _still_video(video, 30)

    result = invoke(app, "device", "checkin", "--server", live_url, "--code", code, "--video", str(video), "--agree")
    assert result.exit_code == 1, result.output
    # The phone hears only that it was not confirmed; the reason is for staff.
    assert "rejected: 未能确认身份" in result.output

    with app.app_context():
        session = db.session()
        [checkin] = session.scalars(select(Checkin).where(Checkin.beneficiary_id == uuid.UUID(person))).all()
        frames = session.scalars(select(CheckinFrame).where(CheckinFrame.checkin_id == checkin.id)).all()
        actions = session.get(CheckinChallenge, checkin.challenge_id).actions
        tags = [f.action for f in sorted(frames, key=lambda f: f.position)]
    # One picture played to the camera: refused before any face work.
    assert checkin.reasons == ["static_frames"]
    # Two frames holding still, then the app's frames per prompted action, in the challenge's order.
    prompted = [None, None, *[a for a in actions for _ in device.ACTION_FRAMES_AT]]
    assert tags[: len(prompted)] == prompted
    # Then the colour phase, untagged by action.
    assert set(tags[len(prompted) :]) == {None} and len(tags) > len(prompted)


@pytest.mark.usefixtures("celery_worker")
def test_a_video_too_short_for_the_challenge_is_refused_before_upload(app, api, world, live_url, tmp_path):
    person, _phone = enrolled_person(api, world, 1, "obama.jpg")
    supervisor = api.as_("supervisor_a")
    code = supervisor.post(f"/api/v1/beneficiaries/{person}/devices", json={}).json()["activation_code"]
    video = tmp_path / "short.avi"
    _still_video(video, 2)
    result = invoke(app, "device", "checkin", "--server", live_url, "--code", code, "--video", str(video), "--agree")
    assert result.exit_code == 1
    assert "ends after 2.0 s" in result.output
    assert supervisor.get("/api/v1/checkins").json() == []
