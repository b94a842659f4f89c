"""Suspension lifecycle through HTTP: appeal reopens the case, reinstatement needs proof of life and pays
exactly the months withheld, a verified check-in never reinstates by itself."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from server import db
from server.models import Beneficiary
from server.services.cases import add_working_days
from tests.conftest import beneficiary_body, office_today
from tests.console.conftest import Console
from tests.support.cases import audit_actions, open_test_case
from tests.support.checkins import actions_of, await_verdict, enrolled_person, new_challenge, submit
from tests.support.jobs import payment_run
from tests.support.sessions import genuine_session


def _suspend(api, case_id: str, effective_on: str) -> dict:
    """Propose by supervisor_a, approve by supervisor_a2; returns the suspension."""
    proposal = api.as_("supervisor_a").post(
        f"/api/v1/cases/{case_id}/decisions",
        json={"decision": "suspend", "reason": "missed the quarter, not at home", "effective_on": effective_on},
    )
    assert proposal.status_code == 201, proposal.text
    approved = api.as_("supervisor_a2").post(
        f"/api/v1/cases/{case_id}/decisions/{proposal.json()['id']}/approve", json={}
    )
    assert approved.status_code == 200, approved.text
    case = api.as_("supervisor_a").get(f"/api/v1/cases/{case_id}").json()
    [suspension] = (
        api.as_("supervisor_a")
        .get("/api/v1/suspensions", params={"beneficiary_id": case["beneficiary_id"], "ongoing": True})
        .json()
    )
    return suspension


def _registered_in_january(app, person: str) -> None:
    """The person has been on the rolls since January (the API registers people today)."""
    with app.app_context():
        db.session().execute(
            update(Beneficiary).where(Beneficiary.id == person).values(created_at=datetime(2026, 1, 5, tzinfo=UTC))
        )
        db.session().commit()


def _verified_check_in(phone, seed: int) -> None:
    challenge = new_challenge(phone)
    submitted = submit(phone, challenge, genuine_session("obama3.jpg", actions_of(challenge), seed=seed))
    assert await_verdict(phone, submitted.json()["id"])["status"] == "verified"


def test_an_appeal_reopens_the_case_while_payment_stays_withheld(app, api, world, live_url):
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1)).json()["id"]
    case_id = open_test_case(app, person)
    suspension = _suspend(api, case_id, "2026-12-01")
    appeal = f"/api/v1/suspensions/{suspension['id']}/appeal"

    assert supervisor.post(appeal, json={}).status_code == 422
    appealed = supervisor.post(appeal, json={"reason": "daughter says he was in hospital in Changsha"})
    assert appealed.status_code == 200, appealed.text
    assert appealed.json()["appealed_at"] is not None
    case = supervisor.get(f"/api/v1/cases/{case_id}").json()
    assert (case["state"], case["due_on"]) == ("open", add_working_days(office_today(), 3).isoformat())
    # Reopening is not reinstating: payment stays withheld until a person decides.
    assert supervisor.get(f"/api/v1/beneficiaries/{person}").json()["status"] == "suspended"
    assert supervisor.post(appeal, json={"reason": "again"}).json()["errors"] == {"suspension_id": ["already_appealed"]}
    dismiss = supervisor.post(f"/api/v1/cases/{case_id}/decisions", json={"decision": "dismiss", "reason": "x"})
    assert dismiss.status_code == 409
    assert dismiss.json()["errors"]["allowed"] == ["suspend", "terminate", "order_visit"]
    assert audit_actions(app, suspension["id"]) == ["suspension.started", "suspension.appealed"]

    # The appeal is turned down (four eyes again): the same suspension stands, no second one.
    upheld = _suspend(api, case_id, "2026-12-01")
    assert upheld["id"] == suspension["id"]
    assert supervisor.get(f"/api/v1/cases/{case_id}").json()["state"] == "suspended"
    assert audit_actions(app, suspension["id"])[-1] == "suspension.upheld"
    # The person hears the answer, and that the office's own review is over: what is left is reconsideration.
    first, answer = supervisor.get(f"/api/v1/suspensions/{suspension['id']}").json()["notices"]
    assert (first["kind"], answer["kind"]) == ("suspension", "suspension_upheld")
    assert answer["what"].startswith("经复核，维持自2026年12月1日起暂停发放救助金的决定。")
    assert answer["appeal_by"] == (office_today() + timedelta(days=60)).isoformat()
    desk = Console(live_url).sign_in("supervisor_a")
    printed = desk.get(f"/notices/{answer['id']}")
    assert printed.status_code == 200, printed.text[:300]
    assert "复核决定告知书" in printed.text and "申请行政复议截止日期" in printed.text


@pytest.mark.usefixtures("celery_worker")
def test_reinstatement_needs_proof_of_life_and_pays_the_months_withheld(app, api, world):
    person, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    _registered_in_january(app, person)
    supervisor = api.as_("supervisor_a")
    case_id = open_test_case(app, person)
    suspension = _suspend(api, case_id, "2026-04-01")
    reinstate = f"/api/v1/beneficiaries/{person}/reinstate"
    body = {"reason": "came to the office in person", "reinstated_on": "2026-07-15"}

    refused = supervisor.post(reinstate, json=body)
    assert (refused.status_code, refused.json()["errors"]) == (409, {"beneficiary_id": ["no_proof_of_life"]})
    _verified_check_in(phone, seed=31)
    # Proof of life alone reinstates nobody: a person decides.
    assert supervisor.get(f"/api/v1/beneficiaries/{person}").json()["status"] == "suspended"
    assert supervisor.post(reinstate, json={"reason": "x", "reinstated_on": "2026-03-31"}).json()["errors"] == {
        "reinstated_on": ["before_suspension"]
    }
    assert supervisor.post(reinstate, json={"reinstated_on": "2026-07-15"}).status_code == 422

    reinstated = supervisor.post(reinstate, json=body)
    assert reinstated.status_code == 200, reinstated.text
    ended = reinstated.json()
    # April, May and June withheld (no payment run paid them); July is paid by July's own run.
    assert (ended["arrears_months"], ended["arrears_amount"]) == (3, "1005.00")
    assert (ended["ended_on"], ended["end_reason"], ended["id"]) == ("2026-07-15", "reinstated", suspension["id"])
    assert supervisor.get(f"/api/v1/beneficiaries/{person}").json()["status"] == "active"
    assert supervisor.get(f"/api/v1/cases/{case_id}").json()["state"] == "reinstated"
    again = supervisor.post(reinstate, json=body)
    assert (again.status_code, again.json()["errors"]) == (409, {"beneficiary_id": ["not_suspended"]})
    assert "beneficiary.reinstated" in audit_actions(app, person)


@pytest.mark.usefixtures("celery_worker")
def test_arrears_count_only_months_no_run_paid_and_the_next_run_pays_them(app, api, world):
    person, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    _registered_in_january(app, person)
    supervisor = api.as_("supervisor_a")
    township = world["township_a"]

    def run(period: str) -> dict:
        return payment_run(supervisor, period, township)

    assert run("2026-05")["counts"]["pay"] == 1  # May paid before the suspension was decided
    case_id = open_test_case(app, person)
    _suspend(api, case_id, "2026-04-01")
    assert run("2026-07")["counts"]["suspended"] == 1  # July's run was built while suspended
    _verified_check_in(phone, seed=32)
    reinstated = supervisor.post(
        f"/api/v1/beneficiaries/{person}/reinstate", json={"reason": "seen at home", "reinstated_on": "2026-07-15"}
    ).json()
    # April and June (unpaid), July (withheld by its run); not May (paid).
    assert (reinstated["arrears_months"], reinstated["arrears_amount"]) == (3, "1005.00")

    august = run("2026-08")
    assert august["counts"]["reinstated_arrears"] == 1
    assert (august["total_arrears"], august["total_amount"]) == ("1005.00", "1340.00")
    paid = supervisor.get("/api/v1/suspensions", params={"beneficiary_id": person}).json()[0]
    assert paid["arrears_paid_in_run_id"] == august["id"]
    # Paid once: the next run pays only the month.
    september = run("2026-09")
    assert (september["counts"]["pay"], september["total_arrears"]) == (1, "0.00")


@pytest.mark.parametrize(
    ("frequency", "ground"),
    [
        ("monthly", "未按时完成月度认证 / The monthly check-in was not done"),
        ("yearly", "未按时完成年度认证 / The yearly check-in was not done"),
    ],
)
def test_a_missed_check_in_notice_names_the_cycles_frequency(app, api, world, frequency, ground):
    admin = api.as_("admin")
    today = office_today()
    cycle = admin.post(
        "/api/v1/cycles",
        json={
            "region_code": world["county"],
            "opens_on": today.isoformat(),
            "deadline": today.isoformat(),
            "frequency": frequency,
        },
    )
    assert cycle.status_code == 201, cycle.text
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1)).json()["id"]
    case_id = open_test_case(app, person, cycle_id=cycle.json()["id"])

    suspension = _suspend(api, case_id, today.isoformat())

    [notice] = supervisor.get(f"/api/v1/suspensions/{suspension['id']}").json()["notices"]
    assert notice["why"] == ground
    assert "季度" not in notice["why"]
