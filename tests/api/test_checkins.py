"""Liveness check-ins through HTTP with a real worker: genuine sessions pass, every spoof kind fails."""

import dataclasses
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from server import db
from server.models import AuditEntry, CheckinChallenge, CheckinFrame, FaceTemplate, utcnow
from tests.support.checkins import actions_of, await_verdict, check_in, enrolled_person, new_challenge, submit
from tests.support.sessions import (
    genuine_session,
    jittered_photo_session,
    out_of_order_session,
    prompts_ignored_session,
    spliced_session,
    still_photo_session,
    tagged_still_session,
    tilted_photo_session,
)
from worker.face.light import PALETTE

pytestmark = pytest.mark.usefixtures("celery_worker")


def test_a_genuine_session_is_verified_and_the_phone_sees_no_scores(api, world):
    _person, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    challenge = new_challenge(phone)
    assert 2 <= len(challenge["actions"]) <= 3
    assert all(a["prompt_zh"] and a["prompt_en"] for a in challenge["actions"])
    response = submit(phone, challenge, genuine_session("obama3.jpg", actions_of(challenge), seed=1))
    assert response.status_code == 202, response.text
    verdict = await_verdict(phone, response.json()["id"])
    assert verdict["status"] == "verified", verdict
    assert set(verdict) == {"id", "status", "message", "received_at", "decided_at"}

    details = api.as_("supervisor_a").get(f"/api/v1/checkins/{verdict['id']}/details").json()
    assert details["state"] == "verified"
    assert details["scores"]["distance"] <= 0.45


SPOOFS = {
    "still_photo": lambda actions: still_photo_session("obama3.jpg", actions),
    "jittered_photo": lambda actions: jittered_photo_session("obama3.jpg", actions, seed=2),
    "tilted_photo": lambda actions: tilted_photo_session("obama3.jpg", actions, seed=3),
    "another_person": lambda actions: genuine_session("biden.jpg", actions, seed=4),
    "person_swapped_mid_session": lambda actions: spliced_session("obama3.jpg", "biden.jpg", actions, seed=5),
    "swapped_in_after_another_began": lambda actions: spliced_session("biden.jpg", "obama3.jpg", actions, seed=8),
    "prompts_ignored": lambda actions: prompts_ignored_session("obama3.jpg", actions, seed=9),
    "actions_in_reverse_order": lambda actions: out_of_order_session("obama3.jpg", actions, seed=10),
}


@pytest.mark.parametrize("kind", SPOOFS)
def test_spoofs_are_never_verified(api, world, kind):
    _person, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    verdict = check_in(phone, SPOOFS[kind])
    assert verdict["status"] in ("rejected", "review"), (kind, verdict)
    assert verdict["status"] == "rejected" or kind == "another_person"


def test_replayed_frames_are_rejected(api, world):
    _person, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    first = new_challenge(phone)
    frames = genuine_session("obama3.jpg", actions_of(first), seed=6)
    assert await_verdict(phone, submit(phone, first, frames).json()["id"])["status"] == "verified"
    # The same recording sent again for a new challenge, relabelled with the new prompts.
    second = new_challenge(phone)
    old, new = actions_of(first), actions_of(second)
    relabelled = [
        dataclasses.replace(f, action=new[min(old.index(f.action), len(new) - 1)] if f.action else None) for f in frames
    ]
    replay = submit(phone, second, relabelled)
    assert replay.status_code == 202
    verdict = await_verdict(phone, replay.json()["id"])
    assert verdict["status"] == "rejected"
    details = api.as_("supervisor_a").get(f"/api/v1/checkins/{verdict['id']}/details").json()
    assert details["reasons"] == ["replayed_frames"]


def test_a_retried_submission_is_one_check_in(api, world):
    _person, phone = enrolled_person(api, world, 1, "obama.jpg")
    challenge = new_challenge(phone)
    frames = genuine_session("obama2.jpg", actions_of(challenge), seed=7)
    first = submit(phone, challenge, frames, client_id="phone-retry-0001")
    again = submit(phone, challenge, frames, client_id="phone-retry-0001")
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["id"] == again.json()["id"]
    listed = api.as_("supervisor_a").get("/api/v1/checkins").json()
    assert [c["id"] for c in listed] == [first.json()["id"]]


def test_used_expired_foreign_and_unknown_challenges_are_refused(app, api, world):
    _a, phone_a = enrolled_person(api, world, 1, "obama.jpg")
    _b, phone_b = enrolled_person(api, world, 2, "biden.jpg")
    challenge = new_challenge(phone_a)
    frames = genuine_session("obama2.jpg", actions_of(challenge), seed=8)
    assert submit(phone_a, challenge, frames).status_code == 202

    used = submit(phone_a, challenge, frames)
    assert (used.status_code, used.json()["errors"]) == (409, {"challenge_id": ["challenge_used"]})

    foreign = submit(phone_b, new_challenge(phone_a), frames)
    assert foreign.status_code == 404

    unknown = submit(phone_a, {"id": str(uuid.uuid4())}, frames)
    assert (unknown.status_code, unknown.json()["errors"]) == (404, {"challenge_id": ["challenge_not_found"]})

    stale = new_challenge(phone_a)
    with app.app_context():
        db.session().execute(
            update(CheckinChallenge)
            .where(CheckinChallenge.id == stale["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session().commit()
    expired = submit(phone_a, stale, frames)
    assert (expired.status_code, expired.json()["errors"]) == (410, {"challenge_id": ["challenge_expired"]})
    # None of the refused submissions was stored.
    assert len(api.as_("supervisor_a").get("/api/v1/checkins").json()) == 1


def test_bad_frames_get_422_and_nothing_is_stored(api, world):
    _person, phone = enrolled_person(api, world, 1, "obama.jpg")
    challenge = new_challenge(phone)
    frames = genuine_session("obama2.jpg", actions_of(challenge), seed=9)
    broken = list(frames)
    broken[1] = type(frames[1])(jpeg=frames[1].jpeg[:200], action=frames[1].action, captured_at=frames[1].captured_at)
    response = submit(phone, challenge, broken)
    assert response.status_code == 422
    assert response.json()["errors"] == {"frames.1": ["truncated_image"]}
    too_few = submit(phone, challenge, frames[:2], light_phase=False)
    assert too_few.json()["errors"] == {"frames": ["wrong_count"]}
    # The challenge was not spent: the phone can send good frames now.
    assert submit(phone, challenge, frames).status_code == 202


def test_the_challenge_carries_its_colour_light_sequence_and_frames_their_colour(api, world):
    _person, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    challenge = new_challenge(phone)
    light = challenge["light"]
    assert 4 <= len(light["colours"]) <= 6 and len(set(light["colours"])) == len(light["colours"])
    assert set(light["colours"]) <= set(PALETTE) and light["step_ms"] == 700
    frames = genuine_session("obama3.jpg", actions_of(challenge), seed=12, light=light)
    foreign = [dataclasses.replace(f, colour="#123456") if f.colour else f for f in frames]
    response = submit(phone, challenge, foreign)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors and all(reasons == ["colour_not_in_challenge"] for reasons in errors.values())
    verdict = await_verdict(phone, submit(phone, challenge, frames).json()["id"])
    assert verdict["status"] == "verified", verdict
    details = api.as_("supervisor_a").get(f"/api/v1/checkins/{verdict['id']}/details").json()
    assert details["scores"]["light"]["outcome"] == "matched"


def test_one_picture_sent_for_every_prompt_is_rejected_as_static(api, world):
    _person, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    challenge = new_challenge(phone)
    frames = tagged_still_session("obama3.jpg", actions_of(challenge))
    verdict = await_verdict(phone, submit(phone, challenge, frames, light_phase=False).json()["id"])
    assert verdict["status"] == "rejected"
    details = api.as_("supervisor_a").get(f"/api/v1/checkins/{verdict['id']}/details").json()
    assert details["reasons"] == ["static_frames"]


def test_the_fifth_failure_locks_out_and_the_third_opens_a_case(api, world):
    person, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    supervisor = api.as_("supervisor_a")
    for attempt in range(5):
        assert check_in(phone, SPOOFS["still_photo"])["status"] == "rejected", attempt
        opened = supervisor.get("/api/v1/cases", params={"kind": "failed_checkins"}).json()
        assert len(opened) == (1 if attempt >= 2 else 0), attempt
    locked = phone.post("/api/v1/checkin-challenges", json={})
    assert locked.status_code == 429
    assert locked.json()["errors"] == {"_": ["locked_out"]}
    assert int(locked.headers["Retry-After"]) > 0

    cases = api.as_("supervisor_a").get("/api/v1/cases", params={"kind": "failed_checkins"}).json()
    assert [(c["beneficiary_id"], c["state"]) for c in cases] == [(person, "open")]


def test_a_field_worker_can_run_an_assisted_check_in(api, world):
    person, _phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    worker = api.as_("worker_a")
    challenge = new_challenge(worker, beneficiary_id=person)
    assert challenge["mode"] == "assisted_staff"
    response = submit(worker, challenge, genuine_session("obama3.jpg", actions_of(challenge), seed=10))
    assert await_verdict(worker, response.json()["id"])["status"] == "verified"
    details = api.as_("supervisor_a").get(f"/api/v1/checkins/{response.json()['id']}/details").json()
    assert details["mode"] == "assisted_staff"
    assert details["staff_id"] is not None


def test_staff_filter_check_ins_by_verdict_and_region(api, world):
    _person, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    check_in(phone, lambda actions: genuine_session("obama3.jpg", actions, seed=11))
    check_in(phone, SPOOFS["still_photo"])
    supervisor = api.as_("supervisor_a")
    assert [c["state"] for c in supervisor.get("/api/v1/checkins", params={"state": "rejected"}).json()] == ["rejected"]
    assert len(supervisor.get("/api/v1/checkins", params={"region_code": world["village_a"]}).json()) == 2
    assert api.as_("supervisor_b").get("/api/v1/checkins").json() == []


def test_the_verdict_names_the_closest_template_and_best_frames_and_the_best_frame_ages_the_gallery(app, api, world):
    person, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    supervisor = api.as_("supervisor_a")
    with app.app_context():
        enrolment_ids = set(
            db.session().scalars(select(FaceTemplate.id).where(FaceTemplate.beneficiary_id == uuid.UUID(person)))
        )
    verdicts = [
        check_in(phone, lambda actions, s=seed: genuine_session("obama3.jpg", actions, seed=s)) for seed in (1, 2, 3)
    ]
    assert [v["status"] for v in verdicts] == ["verified"] * 3

    details = supervisor.get(f"/api/v1/checkins/{verdicts[0]['id']}/details").json()
    scores = details["scores"]
    assert scores["fusion"] == "mean_closest" and scores["frames_matched"] >= 2
    # Only one person in the county: no cohort, the raw distance decided.
    assert scores["cohort"] == 0 and "t_norm" not in scores
    assert scores["closest_template_id"] in {str(i) for i in enrolment_ids}
    with app.app_context():
        frame_ids = set(
            db.session().scalars(select(CheckinFrame.id).where(CheckinFrame.checkin_id == uuid.UUID(verdicts[0]["id"])))
        )
        assert 1 <= len(scores["best_frame_ids"]) <= 3 and set(scores["best_frame_ids"]) <= frame_ids

        # Each verified check-in kept its best frame; beyond the bound (2) the oldest went; enrolment stayed.
        rows = (
            db.session()
            .execute(
                select(FaceTemplate.id, FaceTemplate.checkin_id).where(FaceTemplate.beneficiary_id == uuid.UUID(person))
            )
            .all()
        )
        assert {r.id for r in rows if r.checkin_id is None} == enrolment_ids
        assert {str(r.checkin_id) for r in rows if r.checkin_id is not None} == {v["id"] for v in verdicts[1:]}
        added = (
            db.session()
            .scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "face_template.added_from_checkin")
                .order_by(AuditEntry.seq)
            )
            .all()
        )
        assert [e.details["checkin_id"] for e in added] == [v["id"] for v in verdicts]
        assert len(added[2].details["dropped_template_ids"]) == 1
    # The next check-in is matched against the check-in templates as well.
    fourth = check_in(phone, lambda actions: genuine_session("obama3.jpg", actions, seed=4))
    assert supervisor.get(f"/api/v1/checkins/{fourth['id']}/details").json()["scores"]["templates_matched"] == 4
