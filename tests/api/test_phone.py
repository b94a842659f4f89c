"""The phone's server side: consent at activation, one phone per person, the activation link and QR code,
and the home screen's standing, history and notices."""

import uuid

import pytest
from sqlalchemy import delete, select

from server import db
from server.models import AuditEntry, BiometricConsent
from server.services import consent
from tests.conftest import Api, beneficiary_body
from tests.support.cases import open_test_case
from tests.support.checkins import activate, check_in, enrolled_person, new_challenge
from tests.support.sessions import still_photo_session


def _person_with_code(api, world) -> tuple[str, dict]:
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 7)).json()["id"]
    issued = supervisor.post(f"/api/v1/beneficiaries/{person}/devices", json={})
    assert issued.status_code == 201, issued.text
    return person, issued.json()


def test_activation_needs_consent_to_the_current_text_and_records_it(app, api, world):
    person, issued = _person_with_code(api, world)
    text = api.get("/api/v1/consent/biometric").json()
    assert text["version"] == consent.VERSION and text["text_zh"] and text["text_en"]

    refused = api.post("/api/v1/devices/activate", json={"code": issued["activation_code"]})
    assert refused.status_code == 422 and "consent_version" in refused.text
    outdated = api.post("/api/v1/devices/activate", json={"code": issued["activation_code"], "consent_version": "v0"})
    assert (outdated.status_code, outdated.json()["errors"]) == (422, {"consent_version": ["consent_outdated"]})

    activated = activate(api, issued["activation_code"])
    assert activated.status_code == 200, activated.text
    with app.app_context():
        [row] = db.session().scalars(select(BiometricConsent)).all()
        assert (str(row.beneficiary_id), str(row.device_id), row.text_version) == (
            person,
            issued["device_id"],
            consent.VERSION,
        )
        assert row.agreed_at is not None


@pytest.mark.usefixtures("celery_worker")
def test_a_phone_whose_consent_is_missing_gets_no_challenge(app, api, world):
    _person, phone = enrolled_person(api, world, 1, "obama.jpg")
    with app.app_context():
        session = db.session()
        session.execute(delete(BiometricConsent))
        session.commit()
    refused = phone.post("/api/v1/checkin-challenges", json={})
    assert (refused.status_code, refused.json()["errors"]) == (403, {"consent": ["consent_required"]})


@pytest.mark.usefixtures("celery_worker")
def test_a_new_code_makes_the_old_phone_stop_working(api, world):
    person, phone = enrolled_person(api, world, 1, "obama.jpg")
    assert phone.get("/api/v1/me").status_code == 200
    supervisor = api.as_("supervisor_a")
    pending = supervisor.post(f"/api/v1/beneficiaries/{person}/devices", json={}).json()["activation_code"]
    replacement = supervisor.post(f"/api/v1/beneficiaries/{person}/devices", json={}).json()["activation_code"]

    lost = phone.get("/api/v1/me")
    assert (lost.status_code, lost.json()["errors"]) == (401, {"authorization": ["device_revoked"]})
    assert activate(api, pending).json()["errors"] == {"code": ["invalid_activation_code"]}
    new_phone = Api(api.base_url, activate(api, replacement).json()["access_token"])
    assert new_challenge(new_phone)["actions"]


def test_staff_get_the_activation_link_and_its_qr_code(api, world):
    _person, issued = _person_with_code(api, world)
    code = issued["activation_code"]
    assert issued["activation_url"] == f"{api.base_url}/m/#/activate?code={code}"
    supervisor = api.as_("supervisor_a")

    svg = supervisor.post("/api/v1/devices/activation-qr", json={"code": code})
    assert svg.status_code == 200, svg.text
    assert svg.headers["Content-Type"].startswith("image/svg+xml") and b"<svg" in svg.content
    png = supervisor.post("/api/v1/devices/activation-qr", json={"code": code, "format": "png"})
    assert png.headers["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    # Another township's supervisor cannot tell the code exists.
    assert api.as_("supervisor_b").post("/api/v1/devices/activation-qr", json={"code": code}).status_code == 404
    assert supervisor.post("/api/v1/devices/activation-qr", json={"code": "ABCDEFGHJKMN"}).status_code == 404


@pytest.mark.usefixtures("celery_worker")
def test_the_home_screen_shows_due_date_own_check_ins_and_a_suspension_notice(app, api, world):
    person, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    home = phone.get("/api/v1/me/home").json()
    assert home["name"] == "测试1" and home["status"] == "active"
    assert home["due_by"] is not None and home["covered_until"] is None
    assert (home["checkins"], home["notices"], home["locked_until"]) == ([], [], None)
    assert api.as_("supervisor_a").get("/api/v1/me/home").status_code == 403

    case_id = open_test_case(app, person)
    supervisor = api.as_("supervisor_a")
    proposal = supervisor.post(
        f"/api/v1/cases/{case_id}/decisions",
        json={"decision": "suspend", "reason": "missed the quarter", "effective_on": "2026-12-01"},
    ).json()
    approved = api.as_("supervisor_a2").post(f"/api/v1/cases/{case_id}/decisions/{proposal['id']}/approve", json={})
    assert approved.status_code == 200, approved.text

    home = phone.get("/api/v1/me/home").json()
    assert home["status"] == "suspended"
    [notice] = home["notices"]
    assert notice["kind"] == "suspension" and notice["how_to_appeal"] and notice["appeal_by"]
    uuid.UUID(notice["id"])


@pytest.mark.usefixtures("celery_worker")
def test_the_phone_lists_the_persons_data_and_withdrawing_consent_blocks_the_next_challenge(app, api, world):
    person, phone = enrolled_person(api, world, 1, "obama.jpg")
    tried = check_in(phone, lambda actions: still_photo_session("obama3.jpg", actions))
    assert tried["status"] == "rejected"

    mine = phone.get("/api/v1/me/data")
    assert mine.status_code == 200, mine.text
    data = mine.json()
    assert [(c["id"], c["status"], c["mode"]) for c in data["checkins"]] == [(tried["id"], "rejected", "self")]
    assert data["checkins"][0]["received_at"] and data["checkins_total"] == 1
    assert [(c["text_version"], c["this_phone"], c["withdrawn_at"]) for c in data["consents"]] == [
        (consent.VERSION, True, None)
    ]
    assert data["enrolment_photos"] == 1 and data["consent_withdrawn_at"] is None
    assert data["retention_days"]["checkin_frames"] == 90
    assert "scores" not in data["checkins"][0]
    staff_asks = api.as_("supervisor_a").get("/api/v1/me/data")
    assert (staff_asks.status_code, staff_asks.json()["errors"]) == (403, {"authorization": ["device_only"]})

    withdrawn = phone.post("/api/v1/me/consent/withdrawal")
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["message"]["zh"].startswith("您已撤回")
    assert phone.post("/api/v1/me/consent/withdrawal").json() == withdrawn.json()

    refused = phone.post("/api/v1/checkin-challenges", json={})
    assert refused.status_code == 403
    assert refused.json()["errors"] == {"consent": ["consent_withdrawn"]}
    assert "can no longer check in" in refused.json()["message"] and "撤回" in refused.json()["message"]
    assert phone.get("/api/v1/me/home").json()["consent_withdrawn_at"] == withdrawn.json()["consent_withdrawn_at"]

    # The supervisor is asked to switch the person to a home visit or an in-person check-in.
    supervisor = api.as_("supervisor_a")
    [case] = supervisor.get("/api/v1/cases", params={"kind": "consent_withdrawn"}).json()
    assert case["beneficiary_id"] == person and case["state"] == "open"
    with app.app_context():
        actions = (
            db.session()
            .scalars(select(AuditEntry.action).where(AuditEntry.object_id == person).order_by(AuditEntry.seq))
            .all()
        )
        assert actions.count("personal_data.listed") == 1
        assert actions.count("consent.biometric_withdrawn") == 1
