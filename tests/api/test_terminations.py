"""Termination through HTTP with the real worker: a person terminated by a wrong death record gets a notice that
names the record and never the staff's note, appeals, proves to be alive with a verified check-in, and is
restored by two people with the right arrears; their other cases close with the termination; the death record
then shows as disputed in the per-source report."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from server import db
from server.context import Ctx
from server.models import Beneficiary, PaymentLine, PaymentRun
from server.services import decisions
from server.services.cases import add_working_days
from tests.conftest import beneficiary_body, id_number, office_today
from tests.console.conftest import Console
from tests.support.cases import audit_actions, open_test_case
from tests.support.checkins import actions_of, await_verdict, enrolled_person, new_challenge, submit
from tests.support.jobs import import_report, payment_run
from tests.support.sessions import genuine_session

INTERNAL_NOTE = "内部：邻居说已经办过丧事 / internal: neighbour mentioned a funeral"
FOR_THE_PERSON = "请带户口本到民政办"


def _propose_and_approve(api, case_id: str, body: dict) -> dict:
    proposal = api.as_("supervisor_a").post(f"/api/v1/cases/{case_id}/decisions", json=body)
    assert proposal.status_code == 201, proposal.text
    approved = api.as_("supervisor_a2").post(
        f"/api/v1/cases/{case_id}/decisions/{proposal.json()['id']}/approve", json={}
    )
    assert approved.status_code == 200, approved.text
    return approved.json()


def _notice_texts(notice: dict) -> str:
    return " ".join(str(notice[k] or "") for k in ("what", "why", "note_for_person", "evidence", "how_to_appeal"))


@pytest.mark.usefixtures("celery_worker")
def test_a_person_wrongly_recorded_dead_appeals_checks_in_and_is_restored_by_two_people(app, api, live_url, world):
    person, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    with app.app_context():
        db.session().execute(
            update(Beneficiary).where(Beneficiary.id == person).values(created_at=datetime(2026, 1, 5, tzinfo=UTC))
        )
        db.session().commit()
    supervisor = api.as_("supervisor_a")
    township = world["township_a"]
    for period in ("2026-09", "2026-10"):
        payment_run(supervisor, period, township)

    # Another case holds a suspension, a third is open: the termination must leave neither behind.
    suspended_case = open_test_case(app, person)
    _propose_and_approve(
        api, suspended_case, {"decision": "suspend", "reason": "not seen this quarter", "effective_on": "2026-11-01"}
    )
    open_case = open_test_case(app, person)

    row = f"{id_number(world['village_a'], 1)},2026-09-10,civil_registry,DR-0917"
    text = f"id_number,date_of_death,source,reference\n{row}\n"
    report = import_report(
        supervisor, "/api/v1/death-records/import", {"file": ("deaths.csv", text.encode(), "text/csv")}
    )
    death_case = report["rows"][0]["case_id"]
    _propose_and_approve(
        api,
        death_case,
        {
            "decision": "terminate",
            "reason": INTERNAL_NOTE,
            "notice_reason": "death_recorded",
            "notice_text": FOR_THE_PERSON,
        },
    )

    # One person, one state: the suspension's case moves with the person, the open one closes, both with a reason.
    assert supervisor.get(f"/api/v1/cases/{suspended_case}").json()["state"] == "terminated"
    assert supervisor.get(f"/api/v1/cases/{open_case}").json()["state"] == "dismissed"
    closing = supervisor.get(f"/api/v1/cases/{open_case}/decisions").json()[-1]
    assert (closing["reason"], closing["params"]) == ("closed_by_termination", {"by_case_id": death_case})
    theirs = supervisor.get("/api/v1/cases", params={"beneficiary_id": person}).json()
    assert {c["state"] for c in theirs} == {"terminated", "dismissed"}
    assert "case.closed" in audit_actions(app, open_case)

    [termination] = supervisor.get("/api/v1/terminations", params={"beneficiary_id": person}).json()
    assert termination["effective_on"] == "2026-09-10"
    [notice] = termination["notices"]
    assert notice["kind"] == "termination"
    assert notice["reason_code"] == "death_recorded"
    assert notice["why"] == "收到户籍登记机关的死亡登记信息 / A death was recorded by the civil registry"
    # Chinese first, with its dates as Chinese documents write them; the English half keeps ISO dates.
    assert notice["evidence"].startswith("死亡登记：户籍登记机关，编号 DR-0917，登记死亡日期 2026年9月10日 / ")
    assert notice["evidence"].endswith("date of death 2026-09-10")
    assert notice["what"].startswith("自2026年9月10日起终止救助。")
    assert notice["note_for_person"] == FOR_THE_PERSON
    assert "2026-09-10" in notice["what"]
    # The staff's note reaches no notice: not this one, not the suspension's.
    [suspension] = supervisor.get("/api/v1/suspensions", params={"beneficiary_id": person}).json()
    assert suspension["end_reason"] == "terminated"
    for shown in (notice, *suspension["notices"]):
        assert "邻居" not in _notice_texts(shown) and "neighbour" not in _notice_texts(shown)
    assert suspension["notices"][0]["why"] == "未按时完成季度认证 / The quarterly check-in was not done"
    # The printable notice too, while the case page shows the note to staff.
    desk = Console(live_url).sign_in("supervisor_a")
    page = desk.get(f"/notices/{notice['id']}")
    assert page.status_code == 200 and "终止救助告知书" in page.text and "DR-0917" in page.text
    assert FOR_THE_PERSON in page.text and "邻居" not in page.text
    assert "邻居" in desk.get(f"/cases/{death_case}").text

    # Terminated and not yet appealing: no check-in; the run built now lists the person as terminated.
    refused = phone.post("/api/v1/checkin-challenges", json={})
    assert (refused.status_code, refused.json()["errors"]) == (409, {"beneficiary_id": ["terminated"]})
    for period in ("2026-11", "2026-12"):
        payment_run(supervisor, period, township)

    # The appeal is recorded at the console's desk, the way the office receives it.
    appealed = desk.post(
        f"/terminations/{termination['id']}/appeal",
        {"reason": "he came to the office himself"},
        token_from=f"/terminations/{termination['id']}",
    )
    assert appealed.status_code == 200 and f"/cases/{death_case}" in appealed.url, appealed.text[:500]
    again = supervisor.post(f"/api/v1/terminations/{termination['id']}/appeal", json={"reason": "again"})
    assert (again.status_code, again.json()["errors"]) == (409, {"termination_id": ["already_appealed"]})
    case = supervisor.get(f"/api/v1/cases/{death_case}").json()
    assert (case["state"], case["due_on"]) == ("open", add_working_days(office_today(), 3).isoformat())
    restore = {"decision": "restore", "reason": "seen alive at the office", "restored_on": office_today().isoformat()}
    early = supervisor.post(f"/api/v1/cases/{death_case}/decisions", json={**restore, "dispute_reason": "alive"})
    assert (early.status_code, early.json()["errors"]) == (409, {"decision": ["no_proof_of_life"]})

    challenge = new_challenge(phone)
    submitted = submit(phone, challenge, genuine_session("obama3.jpg", actions_of(challenge), seed=41))
    assert await_verdict(phone, submitted.json()["id"])["status"] == "verified"

    assert supervisor.post(f"/api/v1/cases/{death_case}/decisions", json=restore).json()["errors"] == {
        "dispute_reason": ["required"]
    }
    proposal = supervisor.post(
        f"/api/v1/cases/{death_case}/decisions",
        json={**restore, "dispute_reason": "verified face check-in on 2026-12-01: the person is alive"},
    )
    assert proposal.status_code == 201, proposal.text
    # November and December were withheld (their runs listed him terminated); September and October were paid.
    assert proposal.json()["params"]["arrears_periods"] == ["2026-11", "2026-12"]
    assert proposal.json()["params"]["arrears_amount"] == "670.00"
    # The approver sees the arrears before confirming.
    assert "670.00" in Console(live_url).sign_in("supervisor_a2").get(f"/cases/{death_case}").text
    own = supervisor.post(f"/api/v1/cases/{death_case}/decisions/{proposal.json()['id']}/approve", json={})
    assert (own.status_code, own.json()["errors"]) == (403, {"_": ["four_eyes_required"]})
    assert supervisor.get(f"/api/v1/beneficiaries/{person}").json()["status"] == "terminated"
    approved = api.as_("supervisor_a2").post(
        f"/api/v1/cases/{death_case}/decisions/{proposal.json()['id']}/approve", json={}
    )
    assert approved.status_code == 200, approved.text

    assert supervisor.get(f"/api/v1/beneficiaries/{person}").json()["status"] == "active"
    assert supervisor.get(f"/api/v1/cases/{death_case}").json()["state"] == "restored"
    restored = supervisor.get(f"/api/v1/terminations/{termination['id']}").json()
    assert (restored["restored_on"], restored["arrears_months"], restored["arrears_amount"]) == (
        office_today().isoformat(),
        2,
        "670.00",
    )
    # October was paid after the recorded death: proven alive, it is no longer money to recover.
    assert supervisor.get("/api/v1/payment-runs/recoveries", params={"region": township}).json() == []
    theirs = supervisor.get("/api/v1/cases", params={"beneficiary_id": person}).json()
    assert not [c for c in theirs if c["state"] in ("open", "extended", "suspended")]
    assert "beneficiary.restored" in audit_actions(app, person)

    # Paid again with the arrears; terminated again later, they are listed as terminated again, once.
    payment_run(supervisor, "2027-01", township)
    _propose_and_approve(
        api,
        open_test_case(app, person),
        {"decision": "terminate", "reason": "moved for good", "effective_on": office_today().isoformat()},
    )
    for period in ("2027-02", "2027-03"):
        payment_run(supervisor, period, township)
    with app.app_context():
        lines = db.session().execute(
            select(PaymentRun.period, PaymentLine.category)
            .join(PaymentRun, PaymentRun.id == PaymentLine.run_id)
            .where(PaymentLine.beneficiary_id == uuid.UUID(person))
            .order_by(PaymentRun.period)
        )
        assert [(period, category.value) for period, category in lines] == [
            ("2026-09", "pay"),
            ("2026-10", "pay"),
            ("2026-11", "terminated"),
            ("2027-01", "reinstated_arrears"),
            ("2027-02", "terminated"),
        ]

    disputed = supervisor.get("/api/v1/death-records/disputed").json()
    assert disputed["sources"] == [{"source": "civil_registry", "count": 1}]
    [record] = disputed["records"]
    assert (record["reference"], record["date_of_death"], record["beneficiary_id"]) == ("DR-0917", "2026-09-10", person)
    assert record["reason"].startswith("verified face check-in")
    exported = supervisor.get("/api/v1/death-records/disputed", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(r["source"], r["reference"], r["date_of_death"]) for r in rows] == [
        ("civil_registry", "DR-0917", "2026-09-10")
    ]
    report_page = desk.get("/death-records/disputed")
    assert "DR-0917" in report_page.text and "户籍登记机关" in report_page.text
    # Another township's supervisor sees none of it.
    assert api.as_("supervisor_b").get("/api/v1/death-records/disputed").json() == {"sources": [], "records": []}


def test_an_appealed_termination_through_a_missed_check_in_keeps_its_case_and_lets_the_person_check_in(app, api, world):
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 2)).json()["id"]
    case_id = open_test_case(app, person)
    _propose_and_approve(
        api,
        case_id,
        {
            "decision": "terminate",
            "reason": "daughter says he moved to Shenzhen for good",
            "effective_on": "2026-10-01",
            "notice_reason": "moved_away",
        },
    )
    [termination] = supervisor.get("/api/v1/terminations", params={"beneficiary_id": person}).json()
    [notice] = termination["notices"]
    assert (notice["reason_code"], notice["why"]) == ("moved_away", "已迁离本地 / You have moved away")
    assert notice["note_for_person"] is None and "Shenzhen" not in _notice_texts(notice)
    wrong = supervisor.post(
        f"/api/v1/cases/{open_test_case(app, person)}/decisions",
        json={"decision": "dismiss", "reason": "x", "notice_reason": "moved_away"},
    )
    assert (wrong.status_code, wrong.json()["errors"]) == (422, {"notice_reason": ["no_notice"]})

    assisted = {"beneficiary_id": person}
    refused = supervisor.post("/api/v1/checkin-challenges", json=assisted)
    assert (refused.status_code, refused.json()["errors"]) == (409, {"beneficiary_id": ["terminated"]})
    appealed = supervisor.post(f"/api/v1/terminations/{termination['id']}/appeal", json={"reason": "he is back"})
    assert appealed.status_code == 200, appealed.text
    # Under appeal the termination no longer blocks a challenge: what is missing now is his enrolment.
    assert supervisor.post("/api/v1/checkin-challenges", json=assisted).json()["errors"] == {
        "beneficiary_id": ["not_enrolled"]
    }
    # A verified check-in closes missed_checkin cases by itself, but not the one holding the appeal.
    with app.app_context():
        closed = decisions.close_missed_checkin_cases(
            Ctx.current(), beneficiary_id=uuid.UUID(person), checkin_id=uuid.uuid4()
        )
        db.session().commit()
    assert closed == 1
    assert supervisor.get(f"/api/v1/cases/{case_id}").json()["state"] == "open"
    no_proof = supervisor.post(f"/api/v1/cases/{case_id}/decisions", json={"decision": "restore", "reason": "back"})
    assert (no_proof.status_code, no_proof.json()["errors"]) == (409, {"decision": ["no_proof_of_life"]})

    # He never checks in: two people uphold the termination, and he is told so, with where to turn next.
    _propose_and_approve(
        api, case_id, {"decision": "terminate", "reason": "not back after all", "effective_on": "2026-10-01"}
    )
    [termination] = supervisor.get("/api/v1/terminations", params={"beneficiary_id": person}).json()
    first, answer = termination["notices"]
    assert first == notice
    assert answer["kind"] == "termination_upheld"
    assert answer["what"].startswith("经复核，维持自2026年10月1日起终止救助的决定。")
    assert "行政复议" in answer["how_to_appeal"] and "行政诉讼" in answer["how_to_appeal"]
    assert answer["appeal_by"] == (office_today() + timedelta(days=60)).isoformat()
    assert audit_actions(app, termination["id"])[-1] == "termination.upheld"
