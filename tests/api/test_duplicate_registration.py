"""An ID number already on another township's rolls: registered like any new person (no oracle across
townships), held from payment and the sweep, and resolved by the county with four eyes."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from server import db
from server.context import Ctx
from server.models import AuditEntry, Beneficiary, ReviewCase
from server.services import cycles, regions
from server.services.audit import Actor
from tests.conftest import beneficiary_body, id_number, office_today
from tests.support.cases import add_supervisor, audit_actions
from tests.support.cli import invoke
from tests.support.jobs import import_report, payment_run
from worker.tasks import open_duplicate_registration_cases

KIND = "duplicate_registration"
# What differs between any two registrations: the record's own id, its masked number and when it was made.
OWN = {"id", "id_number_masked", "created_at", "updated_at"}
# Per response, not per record: when it was sent, and the record's own version tag.
VARYING_HEADERS = {"Date", "ETag"}


def _register(client, body: dict):
    response = client.post("/api/v1/beneficiaries", json=body)
    assert response.status_code == 201, response.text
    return response


READS = ("beneficiary.viewed", "beneficiary.looked_up")


def _changes(app, beneficiary_id: str) -> list[str]:
    """The audited actions on a record, reads left out."""
    return [action for action in audit_actions(app, beneficiary_id) if action not in READS]


def _held_case(app) -> ReviewCase:
    """The one duplicate_registration case, opened by the beat's task as it runs on the hour."""
    with app.app_context():
        open_duplicate_registration_cases()
        return db.session().scalars(select(ReviewCase).where(ReviewCase.kind == KIND)).one()


def _seq(app, beneficiary_id: str) -> int:
    with app.app_context():
        # The registration's entry: the first about the record (reads come after it).
        return db.session().scalar(select(func.min(AuditEntry.seq)).where(AuditEntry.object_id == beneficiary_id))


def _registered_twice(api, world) -> tuple[str, str, str]:
    """Township A has person 1; township B registers person 2 (new) and person 1 again.
    Returns (A's record, B's new record, B's record of person 1)."""
    a_record = _register(api.as_("supervisor_a"), beneficiary_body(world["village_a"], 1)).json()["id"]
    township_b = api.as_("supervisor_b")
    fresh = _register(township_b, beneficiary_body(world["village_b"], 2, name="王二")).json()["id"]
    held = _register(
        township_b, beneficiary_body(world["village_b"], 2, name="王一", id_number=id_number(world["village_a"], 1))
    ).json()["id"]
    return a_record, fresh, held


def test_a_number_registered_elsewhere_gets_the_answer_a_new_one_gets(app, api, world):
    _register(api.as_("supervisor_a"), beneficiary_body(world["village_a"], 1))
    township_b = api.as_("supervisor_b")
    # Same shape of data, two numbers: one nobody has, one on township A's rolls.
    new = township_b.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_b"], 5, name="王五"))
    elsewhere = township_b.post(
        "/api/v1/beneficiaries",
        json=beneficiary_body(world["village_b"], 5, name="王五", id_number=id_number(world["village_a"], 1)),
    )

    assert new.status_code == elsewhere.status_code == 201, elsewhere.text
    assert {k: v for k, v in new.headers.items() if k not in VARYING_HEADERS} == {
        k: v for k, v in elsewhere.headers.items() if k not in VARYING_HEADERS
    }
    assert len(new.content) == len(elsewhere.content)
    first, second = new.json(), elsewhere.json()
    assert first.keys() == second.keys()
    assert {k: v for k, v in first.items() if k not in OWN} == {k: v for k, v in second.items() if k not in OWN}

    # Read back, listed, filtered, counted: the township sees two new people alike.
    read = [township_b.get(f"/api/v1/beneficiaries/{r['id']}") for r in (first, second)]
    assert [r.status_code for r in read] == [200, 200]
    assert {k: v for k, v in read[0].json().items() if k not in OWN} == {
        k: v for k, v in read[1].json().items() if k not in OWN
    }
    for params in ({}, {"status": "active"}, {"program": "rural_minimum_allowance"}, {"name": "王五"}):
        listed = township_b.get("/api/v1/beneficiaries", params=params)
        assert {b["id"] for b in listed.json()} == {first["id"], second["id"]}, params
        assert json.loads(listed.headers["X-Pagination"])["total"] == 2
    by_number = township_b.post("/api/v1/beneficiaries/search", json={"id_number": id_number(world["village_a"], 1)})
    assert [b["id"] for b in by_number.json()] == [second["id"]]
    # No case a township can see, on the list or by the person.
    assert township_b.get("/api/v1/cases").json() == []
    assert township_b.get("/api/v1/cases", params={"beneficiary_id": second["id"]}).json() == []
    # Registering it again in the same township is refused, as for any number the township already holds.
    again = township_b.post(
        "/api/v1/beneficiaries",
        json=beneficiary_body(world["village_b"], 6, id_number=id_number(world["village_a"], 1)),
    )
    assert (again.status_code, again.json()["errors"]) == (422, {"id_number": ["already_registered"]})

    # Nothing was audited between the two registrations: the case opens later, on the beat.
    assert _seq(app, second["id"]) == _seq(app, first["id"]) + 1
    with app.app_context():
        assert db.session().scalars(select(ReviewCase).where(ReviewCase.kind == KIND)).all() == []

    # Internally it is held, as a duplicate of A's record, with one case at the county.
    with app.app_context():
        held = db.session().get(Beneficiary, uuid.UUID(second["id"]))
        original = db.session().scalars(select(Beneficiary).where(Beneficiary.village_code == world["village_a"])).one()
        assert held.duplicate_of == original.id
        assert db.session().get(Beneficiary, uuid.UUID(first["id"])).duplicate_of is None
    case = _held_case(app)
    assert (case.region_code, str(case.beneficiary_id), case.details["live_id"]) == (
        world["county"],
        second["id"],
        str(original.id),
    )
    # The held record's own history shows only its creation, as a new person's does.
    assert _changes(app, second["id"]) == _changes(app, first["id"]) == ["beneficiary.created"]


def test_the_roster_import_counts_a_number_registered_elsewhere_as_created(app, api, world, celery_worker):
    _register(api.as_("supervisor_a"), beneficiary_body(world["village_a"], 1))
    header = "id_number,name,program,village_code,monthly_amount,household_code,phone\n"
    village = world["village_b"]
    rows = [
        f"{id_number(village, 7)},村民七,rural_minimum_allowance,{village},335.00,HH7,13800138007",
        f"{id_number(world['village_a'], 1)},村民一,rural_minimum_allowance,{village},335.00,HH1,13800138001",
    ]
    files = {"file": ("roster.csv", (header + "\n".join(rows) + "\n").encode(), "text/csv")}
    township_b = api.as_("supervisor_b")

    first = import_report(township_b, "/api/v1/beneficiaries/import", files)
    assert (first["created"], first["updated"], first["unchanged"], first["failed"]) == (2, 0, 0, 0)
    assert [row["status"] for row in first["rows"]] == ["created", "created"]
    again = import_report(township_b, "/api/v1/beneficiaries/import", files)
    assert (again["created"], again["updated"], again["unchanged"], again["failed"]) == (0, 0, 2, 0)
    assert len(township_b.get("/api/v1/beneficiaries").json()) == 2
    # One case for the held row, however often the file comes or the beat runs.
    assert str(_held_case(app).beneficiary_id) == first["rows"][1]["beneficiary_id"]
    assert str(_held_case(app).beneficiary_id) == first["rows"][1]["beneficiary_id"]


def test_a_held_record_is_neither_paid_nor_swept(app, api, world, celery_worker):
    _a_record, fresh, held = _registered_twice(api, world)
    with app.app_context():
        db.session().execute(update(Beneficiary).values(created_at=datetime(2026, 1, 5, tzinfo=UTC)))
        db.session().commit()
    township_b = api.as_("supervisor_b")

    run = payment_run(township_b, "2026-11", world["township_b"])
    assert run["counts"] == {"pay": 1, "suspended": 0, "reinstated_arrears": 0, "terminated": 0}
    assert run["total_amount"] == "335.00"

    today = cycles.local_today(cycles.office_zone(app.config["FIELDCHECK"]))
    quarter = {
        "region_code": world["township_b"],
        "opens_on": (today - timedelta(days=10)).isoformat(),
        "deadline": (today + timedelta(days=5)).isoformat(),
    }
    assert township_b.post("/api/v1/cycles", json=quarter).status_code == 201
    _held_case(app)
    assert invoke(app, "sweep", "--today", (today + timedelta(days=21)).isoformat()).exit_code == 0
    missed = township_b.get("/api/v1/cases", params={"kind": "missed_checkin"}).json()
    assert [case["beneficiary_id"] for case in missed] == [fresh]
    with app.app_context():
        cases_of_held = (
            db.session().scalars(select(ReviewCase.kind).where(ReviewCase.beneficiary_id == uuid.UUID(held))).all()
        )
    assert cases_of_held == [KIND]


def _resolve(api, case_id: str, decision: str, reason: str) -> dict:
    proposer, approver = api.as_("admin"), api.as_("supervisor_county")
    # Only the county's two resolutions are open to it.
    wrong = proposer.post(f"/api/v1/cases/{case_id}/decisions", json={"decision": "suspend", "reason": reason})
    assert wrong.status_code == 409
    assert wrong.json()["errors"]["allowed"] == ["transfer", "refuse"]
    proposal = proposer.post(f"/api/v1/cases/{case_id}/decisions", json={"decision": decision, "reason": reason})
    assert proposal.status_code == 201, proposal.text
    assert proposal.json()["status"] == "pending"
    approve = f"/api/v1/cases/{case_id}/decisions/{proposal.json()['id']}/approve"
    own = proposer.post(approve, json={})
    assert (own.status_code, own.json()["errors"]) == (403, {"_": ["four_eyes_required"]})
    approved = approver.post(approve, json={"reason": "agreed"})
    assert approved.status_code == 200, approved.text
    return approver.get(f"/api/v1/cases/{case_id}").json()


def test_only_the_county_sees_the_case_and_a_move_makes_the_new_record_the_live_one(app, api, world, celery_worker):
    add_supervisor(app, world["county"])
    a_record, _fresh, held = _registered_twice(api, world)
    case_id = str(_held_case(app).id)
    for township in ("supervisor_a", "supervisor_b"):
        client = api.as_(township)
        assert client.get(f"/api/v1/cases/{case_id}").status_code == 404
        assert client.get("/api/v1/cases", params={"kind": KIND}).json() == []
        assert (
            client.post(f"/api/v1/cases/{case_id}/decisions", json={"decision": "transfer", "reason": "x"}).status_code
            == 404
        )
    listed = api.as_("supervisor_county").get("/api/v1/cases", params={"kind": KIND}).json()
    assert [c["id"] for c in listed] == [case_id]

    case = _resolve(api, case_id, "transfer", "moved to township B in October; confirmed with both offices")
    assert case["state"] == "transferred"
    township_a, township_b = api.as_("supervisor_a"), api.as_("supervisor_b")
    assert township_a.get(f"/api/v1/beneficiaries/{a_record}").json()["status"] == "terminated"
    assert township_b.get(f"/api/v1/beneficiaries/{held}").json()["status"] == "active"
    with app.app_context():
        session = db.session()
        assert session.get(Beneficiary, uuid.UUID(held)).duplicate_of is None
        old = session.get(Beneficiary, uuid.UUID(a_record))
        assert (old.duplicate_of, old.terminated_on) == (uuid.UUID(held), office_today())
    assert audit_actions(app, case_id) == ["case.opened", "case.decision_proposed", "case.decision_approved"]
    assert _changes(app, held) == ["beneficiary.created", "beneficiary.moved_in"]
    assert _changes(app, a_record)[-1] == "beneficiary.moved_away"
    # From now on the new township pays the person.
    with app.app_context():
        db.session().execute(update(Beneficiary).values(created_at=datetime(2026, 1, 5, tzinfo=UTC)))
        db.session().commit()
    assert payment_run(township_b, "2026-11", world["township_b"])["counts"]["pay"] == 2


def test_the_county_refuses_a_registration_and_the_held_record_is_withdrawn(app, api, world, celery_worker):
    add_supervisor(app, world["county"])
    a_record, _fresh, held = _registered_twice(api, world)
    case_id = str(_held_case(app).id)
    missing_reason = api.as_("admin").post(f"/api/v1/cases/{case_id}/decisions", json={"decision": "refuse"})
    assert missing_reason.status_code == 422

    case = _resolve(api, case_id, "refuse", "same person, still living in township A")
    assert (case["state"], case["decision_reason"]) == ("refused", "same person, still living in township A")
    assert api.as_("supervisor_a").get(f"/api/v1/beneficiaries/{a_record}").json()["status"] == "active"
    assert api.as_("supervisor_b").get(f"/api/v1/beneficiaries/{held}").json()["status"] == "terminated"
    assert _changes(app, held) == ["beneficiary.created", "beneficiary.registration_refused"]
    # Resolved: no decision is left to take.
    again = api.as_("admin").post(f"/api/v1/cases/{case_id}/decisions", json={"decision": "transfer", "reason": "x"})
    assert (again.status_code, again.json()["errors"]["allowed"]) == (409, [])


@pytest.mark.parametrize("first", ["transfer", "refuse"])
def test_a_resolution_proposed_twice_is_refused_while_one_is_pending(app, api, world, first):
    add_supervisor(app, world["county"])
    _registered_twice(api, world)
    case_id = str(_held_case(app).id)
    admin = api.as_("admin")
    assert admin.post(f"/api/v1/cases/{case_id}/decisions", json={"decision": first, "reason": "a"}).status_code == 201
    other = api.as_("supervisor_county").post(
        f"/api/v1/cases/{case_id}/decisions", json={"decision": "refuse", "reason": "b"}
    )
    assert (other.status_code, other.json()["errors"]["decision"]) == (409, ["proposal_pending"])


def test_a_transfer_whose_old_record_was_replaced_meanwhile_is_refused(app, api, world):
    """Two townships register the same person: once one transfer is through, the other can only be refused."""
    add_supervisor(app, world["county"])
    township_c, village_c = world["county"] + "003", world["county"] + "003001"
    with app.app_context():
        for code in (township_c, village_c):
            regions.create_region(Ctx.current(), actor=Actor.system(), code=code, name=f"区划{code}")
            db.session().flush()
        db.session().commit()
    add_supervisor(app, township_c, "supervisor_c")
    _a_record, _fresh, held_b = _registered_twice(api, world)
    number = id_number(world["village_a"], 1)
    held_c = _register(api.as_("supervisor_c"), beneficiary_body(village_c, 3, id_number=number)).json()["id"]
    with app.app_context():
        open_duplicate_registration_cases()
        case_of = {
            str(c.beneficiary_id): str(c.id)
            for c in db.session().scalars(select(ReviewCase).where(ReviewCase.kind == KIND))
        }
    assert _resolve(api, case_of[held_b], "transfer", "moved to B")["state"] == "transferred"

    proposal = api.as_("admin").post(
        f"/api/v1/cases/{case_of[held_c]}/decisions", json={"decision": "transfer", "reason": "moved to C"}
    )
    approve = f"/api/v1/cases/{case_of[held_c]}/decisions/{proposal.json()['id']}/approve"
    stale = api.as_("supervisor_county").post(approve, json={})
    assert (stale.status_code, stale.json()["errors"]) == (409, {"decision": ["duplicate_of_replaced"]})
    assert api.as_("supervisor_c").get(f"/api/v1/beneficiaries/{held_c}").json()["status"] == "active"
    with app.app_context():
        assert db.session().get(Beneficiary, uuid.UUID(held_b)).duplicate_of is None
