"""Face enrolment through HTTP with a real worker on the Redis broker, on real face photos."""

import socket
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server import db
from server.models import AuditEntry, EnrolmentPhoto
from storage import S3Store
from tests.conftest import beneficiary_body, wait_for
from tests.support.photos import photo_bytes

pytestmark = pytest.mark.usefixtures("celery_worker")


def _register(client, village: str, serial: int) -> str:
    response = client.post("/api/v1/beneficiaries", json=beneficiary_body(village, serial))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _upload(client, beneficiary_id: str, *names: str, **params):
    files = [("photos", (name, photo_bytes(name), "image/jpeg")) for name in names]
    return client.post(f"/api/v1/beneficiaries/{beneficiary_id}/photos", files=files, params=params)


def _enrolled(client, beneficiary_id: str) -> dict:
    def done():
        enrolment = client.get(f"/api/v1/beneficiaries/{beneficiary_id}/enrolment").json()
        settled = all(p["state"] not in ("received", "processing") for p in enrolment["photos"])
        return enrolment if settled and enrolment["photos"] else None

    return wait_for(done, timeout=120)


def _objects(app) -> list[Path]:
    root = Path(app.config["FIELDCHECK"].instance_path) / "objects"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_enrolment_and_the_duplicate_face_check(api, world):
    supervisor = api.as_("supervisor_a")
    obama, biden, obama_again = (_register(supervisor, world["village_a"], n) for n in (1, 2, 3))

    accepted = _upload(supervisor, obama, "obama.jpg", "obama2.jpg")
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["state"] == "processing"
    assert _upload(supervisor, biden, "biden.jpg").status_code == 202
    assert _enrolled(supervisor, obama)["state"] == "enrolled"
    assert [p["state"] for p in _enrolled(supervisor, obama)["photos"]] == ["encoded", "encoded"]
    assert _enrolled(supervisor, biden)["state"] == "enrolled"
    assert supervisor.get("/api/v1/cases").json() == []

    # The same man enrolled as a third person: a case for a human, not a rejection.
    assert _upload(supervisor, obama_again, "obama3.jpg").status_code == 202
    assert _enrolled(supervisor, obama_again)["state"] == "enrolled"
    cases = wait_for(lambda: supervisor.get("/api/v1/cases").json())
    assert len(cases) == 1
    case = cases[0]
    assert case["kind"] == "duplicate_face"
    assert case["state"] == "open"
    assert case["beneficiary_id"] == obama_again
    assert case["details"]["other_beneficiary_id"] == obama
    assert case["details"]["distance"] <= case["details"]["threshold"]
    # The other township's supervisor does not see the case.
    assert api.as_("supervisor_b").get("/api/v1/cases").json() == []


def test_a_duplicate_needs_every_enrolment_photo_to_agree_and_is_ranked(api, world):
    supervisor = api.as_("supervisor_a")
    obama, biden, mixed, obama_again = (_register(supervisor, world["village_a"], n) for n in (1, 2, 3, 4))
    assert _upload(supervisor, obama, "obama.jpg").status_code == 202
    assert _upload(supervisor, biden, "biden.jpg").status_code == 202
    _enrolled(supervisor, obama)
    _enrolled(supervisor, biden)

    # One photo looks like Obama, the other is Biden's: neither person matches both, no case.
    assert _upload(supervisor, mixed, "obama2.jpg", "biden.jpg").status_code == 202
    assert _enrolled(supervisor, mixed)["state"] == "enrolled"
    assert supervisor.get("/api/v1/cases").json() == []

    # Both photos are Obama: Obama ranks first, the mixed enrolment (which holds an Obama photo) second.
    assert _upload(supervisor, obama_again, "obama2.jpg", "obama3.jpg").status_code == 202
    _enrolled(supervisor, obama_again)
    cases = wait_for(lambda: len(found := supervisor.get("/api/v1/cases").json()) == 2 and found)
    ranked = sorted(cases, key=lambda c: c["details"]["rank"])
    assert [(c["beneficiary_id"], c["details"]["other_beneficiary_id"]) for c in ranked] == [
        (obama_again, obama),
        (obama_again, mixed),
    ]
    assert ranked[0]["details"]["distance"] < ranked[1]["details"]["distance"] <= ranked[1]["details"]["threshold"]
    # Four people in the county are too few for a normalised score: the raw distance decided.
    assert ranked[0]["details"]["score"] is None


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("notes.jpg", lambda: b"this is not a photo", "not_an_image"),
        ("cut.jpg", lambda: photo_bytes("obama.jpg")[: len(photo_bytes("obama.jpg")) // 2], "truncated_image"),
        ("half.jpg", lambda: photo_bytes("obama_partial_face.jpg"), "face_cut_off"),
        ("empty.jpg", lambda: b"", "empty_file"),
    ],
)
def test_a_bad_upload_is_refused_and_leaves_no_row_and_no_object(app, api, world, name, content, reason):
    supervisor = api.as_("supervisor_a")
    beneficiary = _register(supervisor, world["village_a"], 1)
    objects_before = _objects(app)
    files = [
        ("photos", ("good.jpg", photo_bytes("obama.jpg"), "image/jpeg")),
        ("photos", (name, content(), "image/jpeg")),
    ]
    response = supervisor.post(f"/api/v1/beneficiaries/{beneficiary}/photos", files=files)
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == {"photos.1": [reason]}
    assert supervisor.get(f"/api/v1/beneficiaries/{beneficiary}/enrolment").json() == {
        "beneficiary_id": beneficiary,
        "state": "not_enrolled",
        "photos": [],
        "pending_change": None,
    }
    assert _objects(app) == objects_before
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(EnrolmentPhoto)) == 0


def test_more_than_five_photos_are_refused(api, world):
    supervisor = api.as_("supervisor_a")
    beneficiary = _register(supervisor, world["village_a"], 1)
    response = _upload(supervisor, beneficiary, *["obama.jpg"] * 6)
    assert response.status_code == 422
    assert response.json()["errors"] == {"photos": ["wrong_count"]}


def test_photos_are_encrypted_at_rest_and_every_view_is_audited(app, api, world):
    supervisor = api.as_("supervisor_a")
    beneficiary = _register(supervisor, world["village_a"], 1)
    _upload(supervisor, beneficiary, "biden.jpg")
    photo = _enrolled(supervisor, beneficiary)["photos"][0]

    (stored,) = [p for p in _objects(app) if p.name == photo["id"]]
    original = photo_bytes("biden.jpg")
    assert stored.read_bytes() != original
    assert original[:64] not in stored.read_bytes()

    image_path = f"/api/v1/beneficiaries/{beneficiary}/photos/{photo['id']}/image"
    assert supervisor.get(image_path).status_code == 422  # a reason is required
    assert api.as_("worker_a").get(image_path, params={"reason": "curious"}).status_code == 403
    viewed = supervisor.get(image_path, params={"reason": "duplicate review"})
    assert viewed.status_code == 200
    assert viewed.content == original
    assert viewed.headers["Content-Type"] == "image/jpeg"
    with app.app_context():
        entry = db.session().scalar(select(AuditEntry).where(AuditEntry.action == "biometric.viewed"))
    assert (entry.object_id, entry.reason) == (photo["id"], "duplicate review")


def test_re_enrolment_by_a_field_worker_replaces_the_photos_once_a_supervisor_approves(api, world):
    worker = api.as_("worker_a")
    beneficiary = _register(api.as_("supervisor_a"), world["village_a"], 1)
    _upload(worker, beneficiary, "obama.jpg")
    first = _enrolled(worker, beneficiary)["photos"][0]["id"]

    proposed = _upload(worker, beneficiary, "obama2.jpg", replace="true")
    assert proposed.status_code == 202
    change = proposed.json()["pending_change"]["id"]
    approved = api.as_("supervisor_a").post(
        f"/api/v1/beneficiaries/{beneficiary}/photo-changes/{change}/approve", json={}
    )
    assert approved.status_code == 200, approved.text
    photos = _enrolled(worker, beneficiary)["photos"]
    assert {p["id"]: p["state"] for p in photos}[first] == "retired"
    assert sorted(p["state"] for p in photos) == ["encoded", "retired"]


def test_when_storage_is_down_the_upload_fails_cleanly_and_can_be_retried(app, api, world):
    supervisor = api.as_("supervisor_a")
    beneficiary = _register(supervisor, world["village_a"], 1)
    working_store = app.extensions["fieldcheck.store"]
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        app.extensions["fieldcheck.store"] = S3Store(
            f"127.0.0.1:{closed.getsockname()[1]}", "key", "secret", "photos", secure=False
        )
        try:
            response = _upload(supervisor, beneficiary, "obama.jpg")
        finally:
            app.extensions["fieldcheck.store"] = working_store
    assert response.status_code == 503
    assert response.json()["errors"] == {"_": ["storage_unavailable"]}
    assert supervisor.get(f"/api/v1/beneficiaries/{beneficiary}/enrolment").json()["photos"] == []

    assert _upload(supervisor, beneficiary, "obama.jpg").status_code == 202
    assert _enrolled(supervisor, beneficiary)["state"] == "enrolled"
