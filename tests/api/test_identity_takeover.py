"""No identity takeover by one person: photos of an enrolled person change only under four eyes, a new
face far from the old ones opens a case, and a further phone is announced to the supervisors."""

import pytest
from sqlalchemy import select

from server import db
from server.models import AuditEntry
from tests.conftest import wait_for
from tests.support.checkins import activate, check_in, enrolled_person
from tests.support.photos import photo_bytes
from tests.support.sessions import genuine_session

pytestmark = pytest.mark.usefixtures("celery_worker")


def _upload(client, person: str, *names: str, **params):
    files = [("photos", (name, photo_bytes(name), "image/jpeg")) for name in names]
    return client.post(f"/api/v1/beneficiaries/{person}/photos", files=files, params=params)


def _enrolment(client, person: str) -> dict:
    return client.get(f"/api/v1/beneficiaries/{person}/enrolment").json()


def test_a_field_worker_alone_cannot_take_over_a_persons_identity(app, api, world):
    person, _phone = enrolled_person(api, world, 1, "obama.jpg")
    worker = api.as_("worker_a")

    # The takeover path from the probe: replace the photos with another face, issue a phone, check in.
    replaced = _upload(worker, person, "biden.jpg", replace="true")
    assert replaced.status_code == 202, replaced.text
    body = replaced.json()
    assert body["state"] == "enrolled"
    assert body["pending_change"]["kind"] == "replace"
    assert sorted(p["state"] for p in body["photos"]) == ["encoded", "proposed"]
    code = worker.post(f"/api/v1/beneficiaries/{person}/devices", json={}).json()["activation_code"]
    intruder = api.__class__(api.base_url, activate(api, code).json()["access_token"])
    verdict = check_in(intruder, lambda actions: genuine_session("biden.jpg", actions, seed=4))
    assert verdict["status"] != "verified", verdict

    # Retiring the photo in use is a proposal too; only one change waits at a time.
    photo_in_use = next(p["id"] for p in body["photos"] if p["state"] == "encoded")
    retired = worker.delete(f"/api/v1/beneficiaries/{person}/photos/{photo_in_use}")
    assert retired.status_code == 409
    assert retired.json()["errors"] == {"_": ["photo_change_pending"]}

    # The supervisors were told about the second phone.
    notices = api.as_("supervisor_a").get("/api/v1/staff-notifications").json()
    assert [(n["kind"], n["beneficiary_id"]) for n in notices] == [("device_added", person)]
    assert api.as_("supervisor_b").get("/api/v1/staff-notifications").json() == []
    with app.app_context():
        entry = db.session().scalar(
            select(AuditEntry).where(AuditEntry.action == "device.code_issued").order_by(AuditEntry.seq.desc())
        )
    assert len(entry.details["replaced_devices"]) == 1

    # The field worker may not approve; nor may a supervisor approve their own proposal.
    change = body["pending_change"]["id"]
    approve = f"/api/v1/beneficiaries/{person}/photo-changes/{change}/approve"
    assert worker.post(approve, json={}).status_code == 403
    supervisor = api.as_("supervisor_a")
    assert supervisor.post(f"/api/v1/beneficiaries/{person}/photo-changes/{change}/reject", json={}).status_code == 422
    rejected = supervisor.post(
        f"/api/v1/beneficiaries/{person}/photo-changes/{change}/reject", json={"reason": "not the same man"}
    )
    assert rejected.status_code == 200, rejected.text
    assert sorted(p["state"] for p in rejected.json()["photos"]) == ["encoded", "retired"]
    assert rejected.json()["pending_change"] is None

    proposal = _upload(supervisor, person, "obama2.jpg", replace="true", reason="better light").json()
    own = f"/api/v1/beneficiaries/{person}/photo-changes/{proposal['pending_change']['id']}/approve"
    denied = supervisor.post(own, json={})
    assert (denied.status_code, denied.json()["errors"]) == (403, {"_": ["four_eyes_required"]})


def test_an_approved_change_to_another_face_opens_a_template_change_case(api, world):
    person, _phone = enrolled_person(api, world, 1, "obama.jpg")
    proposal = _upload(api.as_("worker_a"), person, "biden.jpg", replace="true").json()
    change = proposal["pending_change"]["id"]
    approved = api.as_("supervisor_a2").post(
        f"/api/v1/beneficiaries/{person}/photo-changes/{change}/approve", json={"reason": "re-enrolment"}
    )
    assert approved.status_code == 200, approved.text

    def settled():
        photos = _enrolment(api.as_("supervisor_a"), person)["photos"]
        return photos if all(p["state"] in ("encoded", "retired") for p in photos) else None

    assert sorted(p["state"] for p in wait_for(settled, timeout=120)) == ["encoded", "retired"]
    cases = wait_for(lambda: api.as_("supervisor_a").get("/api/v1/cases", params={"kind": "template_change"}).json())
    assert cases[0]["beneficiary_id"] == person
    assert cases[0]["details"]["distance"] > cases[0]["details"]["threshold"]
    history = api.as_("supervisor_a").get(f"/api/v1/beneficiaries/{person}/photo-changes").json()
    assert [(c["kind"], c["status"]) for c in history] == [("replace", "approved")]


def test_the_same_face_added_under_four_eyes_opens_no_case(api, world):
    person, _phone = enrolled_person(api, world, 1, "obama.jpg")
    proposal = _upload(api.as_("supervisor_a"), person, "obama2.jpg").json()
    assert proposal["pending_change"]["kind"] == "add"
    api.as_("admin").post(
        f"/api/v1/beneficiaries/{person}/photo-changes/{proposal['pending_change']['id']}/approve", json={}
    )
    photos = wait_for(
        lambda: [p for p in _enrolment(api.as_("admin"), person)["photos"] if p["state"] == "encoded"][1:] or None,
        timeout=120,
    )
    assert photos
    assert api.as_("supervisor_a").get("/api/v1/cases").json() == []
