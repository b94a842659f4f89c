"""Revocable tokens (logout, reset, disabled accounts, revoked phones) and the admins' staff-management API."""

from sqlalchemy import select

from server import db
from server.models import AuditEntry
from tests.conftest import PASSWORD, Api, beneficiary_body
from tests.support.checkins import activate

NEW_PASSWORD = "a much better passphrase"


def _reason(response) -> list[str]:
    return response.json()["errors"]["authorization"]


def _staff_id(admin: Api, username: str) -> str:
    return next(u["id"] for u in admin.get("/api/v1/staff").json() if u["username"] == username)


def _audited(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(
            db.session().scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq))
        )


def test_logout_revokes_only_that_token(app, api):
    first, second = api.as_("supervisor_a"), api.as_("supervisor_a")
    assert first.post("/api/v1/auth/logout").status_code == 204
    refused = first.get("/api/v1/me")
    assert (refused.status_code, _reason(refused)) == (401, ["token_revoked"])
    assert second.get("/api/v1/me").status_code == 200
    assert len(_audited(app, "staff.logout")) == 1


def test_an_admin_manages_staff_and_every_change_is_audited(app, api, world):
    admin = api.as_("admin")
    created = admin.post(
        "/api/v1/staff",
        json={
            "username": "new_worker",
            "password": PASSWORD,
            "role": "field_worker",
            "region_code": world["village_a"],
        },
    )
    assert created.status_code == 201, created.text
    assert "password" not in created.json() and "password_hash" not in created.json()
    user_id = created.json()["id"]
    worker = api.as_("new_worker")
    assert worker.get("/api/v1/me").json()["role"] == "field_worker"

    moved = admin.patch(
        f"/api/v1/staff/{user_id}",
        json={"role": "supervisor", "region_code": world["township_a"], "reason": "promoted"},
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["role"], moved.json()["region_code"]) == ("supervisor", world["township_a"])
    assert worker.get("/api/v1/me").json()["role"] == "supervisor"

    disabled = admin.patch(f"/api/v1/staff/{user_id}", json={"is_active": False, "reason": "left the office"})
    assert disabled.json()["is_active"] is False
    assert worker.get("/api/v1/me").status_code == 401
    assert api.post("/api/v1/auth/token", json={"username": "new_worker", "password": PASSWORD}).status_code == 401
    assert admin.patch(f"/api/v1/staff/{user_id}", json={"is_active": True, "reason": "came back"}).status_code == 200
    # Tokens from before the account was disabled stay dead; a new login works.
    assert worker.get("/api/v1/me").status_code == 401
    assert api.as_("new_worker").get("/api/v1/me").status_code == 200

    entries = [e for e in _audited(app, "staff.created") + _audited(app, "staff.updated") if e.object_id == user_id]
    assert [(e.action, e.reason) for e in entries] == [
        ("staff.created", None),
        ("staff.updated", "promoted"),
        ("staff.updated", "left the office"),
        ("staff.updated", "came back"),
    ]
    assert all(PASSWORD not in str(e.details) for e in entries)


def test_only_admins_manage_staff_and_only_within_their_region(api, world):
    assert api.as_("supervisor_a").get("/api/v1/staff").status_code == 403
    admin = api.as_("admin")
    outside = admin.post(
        "/api/v1/staff",
        json={"username": "elsewhere", "password": PASSWORD, "role": "field_worker", "region_code": "110101"},
    )
    assert (outside.status_code, outside.json()["errors"]) == (422, {"region_code": ["unknown_region"]})
    me = admin.get("/api/v1/me").json()["id"]
    demote = admin.patch(f"/api/v1/staff/{me}", json={"role": "supervisor", "reason": "oops"})
    assert demote.status_code == 403


def test_a_password_reset_revokes_every_token_of_that_person(app, api):
    admin = api.as_("admin")
    worker = api.as_("worker_a")
    user_id = _staff_id(admin, "worker_a")
    short = admin.post(f"/api/v1/staff/{user_id}/password", json={"password": "short", "reason": "forgotten"})
    assert short.json()["errors"] == {"password": ["too_short"]}
    reset = admin.post(f"/api/v1/staff/{user_id}/password", json={"password": NEW_PASSWORD, "reason": "forgotten"})
    assert reset.status_code == 204, reset.text
    refused = worker.get("/api/v1/me")
    assert (refused.status_code, _reason(refused)) == (401, ["token_revoked"])
    assert api.as_("worker_a", NEW_PASSWORD).get("/api/v1/me").status_code == 200
    (entry,) = _audited(app, "staff.password_reset")
    assert NEW_PASSWORD not in str(entry.details) and entry.reason == "forgotten"


def test_changing_your_own_password_gives_a_new_token_and_ends_the_others(api):
    elsewhere = api.as_("supervisor_a")
    here = api.as_("supervisor_a")
    wrong = here.post("/api/v1/me/password", json={"current_password": "not it at all", "new_password": NEW_PASSWORD})
    assert wrong.json()["errors"] == {"current_password": ["wrong_password"]}
    changed = here.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200, changed.text
    assert elsewhere.get("/api/v1/me").status_code == 401
    assert here.get("/api/v1/me").status_code == 401
    assert Api(api.base_url, changed.json()["access_token"]).get("/api/v1/me").status_code == 200


def test_staff_revoke_a_phone_and_its_token_stops_at_once(app, api, world):
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1)).json()["id"]
    issued = supervisor.post(f"/api/v1/beneficiaries/{person}/devices", json={"label": "son's phone"}).json()
    phone = Api(
        api.base_url,
        activate(api, issued["activation_code"]).json()["access_token"],
    )
    assert phone.get("/api/v1/me").status_code == 200

    devices = supervisor.get(f"/api/v1/beneficiaries/{person}/devices").json()
    assert [(d["id"], d["revoked_at"]) for d in devices] == [(issued["device_id"], None)]
    path = f"/api/v1/beneficiaries/{person}/devices/{issued['device_id']}/revoke"
    assert supervisor.post(path, json={}).status_code == 422
    assert api.as_("supervisor_b").post(path, json={"reason": "lost"}).status_code == 404
    revoked = supervisor.post(path, json={"reason": "phone lost"})
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    refused = phone.get("/api/v1/me")
    assert (refused.status_code, _reason(refused)) == (401, ["device_revoked"])
    (entry,) = _audited(app, "device.revoked")
    assert entry.reason == "phone lost"


def test_a_phone_logs_out(api, world):
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1)).json()["id"]
    code = supervisor.post(f"/api/v1/beneficiaries/{person}/devices", json={}).json()["activation_code"]
    phone = Api(api.base_url, activate(api, code).json()["access_token"])
    assert phone.post("/api/v1/auth/logout").status_code == 204
    assert _reason(phone.get("/api/v1/me")) == ["token_revoked"]
