"""Staff login, device activation and what each token may touch."""

from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests
from sqlalchemy import select, update

from server import db
from server.app import create_app
from server.models import AuditEntry, StaffUser
from server.services import consent
from tests.conftest import PASSWORD, beneficiary_body, served
from tests.support.checkins import activate


def _token_error(response):
    return response.json()["errors"]["authorization"]


def test_staff_login_gives_a_token_that_identifies_the_user(api, world):
    supervisor = api.as_("supervisor_a")
    me = supervisor.get("/api/v1/me").json()
    assert me["kind"] == "staff"
    assert me["role"] == "supervisor"
    assert me["region_code"] == world["township_a"]


def test_wrong_password_and_unknown_user_get_the_same_401(api):
    wrong = api.post("/api/v1/auth/token", json={"username": "supervisor_a", "password": "not it at all"})
    unknown = api.post("/api/v1/auth/token", json={"username": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert _token_error(wrong) == _token_error(unknown) == ["invalid_credentials"]


def test_requests_without_or_with_a_forged_token_are_refused(api):
    assert _token_error(api.get("/api/v1/beneficiaries")) == ["missing_token"]
    forged = api.get("/api/v1/beneficiaries", headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"})
    assert forged.status_code == 401
    assert _token_error(forged) == ["invalid_token"]


def test_a_disabled_account_loses_its_token(app, api):
    supervisor = api.as_("supervisor_a")
    with app.app_context():
        db.session().execute(update(StaffUser).where(StaffUser.username == "supervisor_a").values(is_active=False))
        db.session().commit()
    response = supervisor.get("/api/v1/beneficiaries")
    assert response.status_code == 401
    assert _token_error(response) == ["account_disabled"]


def test_field_workers_cannot_register_beneficiaries(api, world):
    response = api.as_("worker_a").post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1))
    assert response.status_code == 403
    assert _token_error(response) == ["role_not_allowed"]


def test_device_activation_code_works_once_and_only_for_its_beneficiary(api, world):
    supervisor = api.as_("supervisor_a")
    own = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1)).json()
    other = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 2)).json()

    issued = api.as_("worker_a").post(f"/api/v1/beneficiaries/{own['id']}/devices", json={"label": "daughter's phone"})
    assert issued.status_code == 201
    code = issued.json()["activation_code"]

    # Typed by a relative: lower case with spaces still works.
    activated = activate(api, " ".join([code[:4].lower(), code[4:]]))
    assert activated.status_code == 200, activated.text
    device = type(api)(api.base_url, activated.json()["access_token"])

    assert device.get("/api/v1/me").json()["beneficiary_id"] == own["id"]
    assert device.get(f"/api/v1/beneficiaries/{own['id']}").status_code == 200
    assert device.get(f"/api/v1/beneficiaries/{other['id']}").status_code == 404
    assert device.get("/api/v1/beneficiaries").status_code == 403

    reused = activate(api, code)
    assert reused.status_code == 401
    assert reused.json()["errors"]["code"] == ["invalid_activation_code"]


def test_guessing_a_password_is_throttled_per_account_and_audited(app, api, world):
    guesses = [
        api.post("/api/v1/auth/token", json={"username": "worker_a", "password": f"guess-{n}"}) for n in range(11)
    ]
    assert [r.status_code for r in guesses] == [401] * 10 + [429]
    assert int(guesses[-1].headers["Retry-After"]) > 0
    assert guesses[-1].json()["errors"] == {"_": ["too_many_attempts"]}
    # The right password no longer helps; another account from the same address still logs in.
    right = api.post("/api/v1/auth/token", json={"username": "worker_a", "password": PASSWORD})
    assert right.status_code == 429
    assert api.as_("supervisor_a").get("/api/v1/me").status_code == 200

    with app.app_context():
        failed = db.session().scalars(select(AuditEntry).where(AuditEntry.action == "staff.login_failed")).all()
    assert len(failed) == 10
    assert all(e.details == {"address": "127.0.0.1", "known_account": True} for e in failed)
    assert all("guess" not in str(e.details) and e.reason is None for e in failed)


def test_an_unknown_username_is_audited_only_as_its_hmac(app, api):
    api.post("/api/v1/auth/token", json={"username": "typed-my-password-here", "password": "x" * 10})
    with app.app_context():
        entry = db.session().scalar(select(AuditEntry).where(AuditEntry.action == "staff.login_failed"))
    assert entry.object_id.startswith("unknown:")
    assert "typed" not in entry.object_id


def test_spraying_many_accounts_from_one_address_is_throttled(api):
    answers = [
        api.post("/api/v1/auth/token", json={"username": f"user{n}", "password": "wrong password"}).status_code
        for n in range(31)
    ]
    assert answers == [401] * 30 + [429]


def test_guessing_activation_codes_is_throttled(api):
    answers = [
        api.post(
            "/api/v1/devices/activate", json={"code": f"ABCD-EFGH-{n:04d}", "consent_version": consent.VERSION}
        ).status_code
        for n in range(11)
    ]
    assert answers == [401] * 10 + [429]


@pytest.fixture
def behind_a_proxy(app) -> Iterator[str]:
    """The suite's app as an office runs it behind one proxy (FIELDCHECK_PROXIES=1), on a port of its own."""
    with served(create_app(replace(app.config["FIELDCHECK"], proxies=1))) as url:
        yield url


def _activate_from(base_url: str, address: str, n: int) -> int:
    code = {"code": f"ABCD-EFGH-{n:04d}", "consent_version": consent.VERSION}
    headers = {"X-Forwarded-For": address}
    return requests.post(f"{base_url}/api/v1/devices/activate", json=code, headers=headers, timeout=10).status_code


def test_behind_a_proxy_each_client_is_throttled_on_its_own_and_audited_by_its_address(app, api, world, behind_a_proxy):
    # Every request reaches the app from the proxy's address; the proxy names the client's.
    assert [_activate_from(behind_a_proxy, "203.0.113.7", n) for n in range(11)] == [401] * 10 + [429]
    # Another phone behind the same proxy is not locked out by the first one's mistakes.
    assert _activate_from(behind_a_proxy, "203.0.113.8", 99) == 401

    wrong = {"username": "worker_a", "password": "wrong password"}
    headers = {"X-Forwarded-For": "198.51.100.4"}
    refused = requests.post(f"{behind_a_proxy}/api/v1/auth/token", json=wrong, headers=headers, timeout=10)
    assert refused.status_code == 401
    with app.app_context():
        failed = db.session().scalar(select(AuditEntry).where(AuditEntry.action == "staff.login_failed"))
    assert failed.details["address"] == "198.51.100.4"

    # The links it hands out are on the address people use, over HTTPS, not the proxy's upstream.
    person = api.as_("supervisor_a").post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 71))
    issued = requests.post(
        f"{behind_a_proxy}/api/v1/beneficiaries/{person.json()['id']}/devices",
        json={},
        headers={
            "Authorization": api.as_("supervisor_a").http.headers["Authorization"],
            "X-Forwarded-For": "198.51.100.5",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "fieldcheck.example.cn",
        },
        timeout=10,
    )
    assert issued.json()["activation_url"].startswith("https://fieldcheck.example.cn/m/#/activate?code=")


def test_without_a_proxy_a_client_cannot_name_a_new_address_for_each_guess(live_url):
    answers = [_activate_from(live_url, f"203.0.113.{n}", n) for n in range(11)]
    assert answers == [401] * 10 + [429]
