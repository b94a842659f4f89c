"""Cycles, exemptions and imported evidence through HTTP, and `fieldcheck cycles generate`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server import db
from server.models import AuditEntry
from server.services import cycles
from tests.conftest import beneficiary_body, id_number
from tests.support.cli import invoke
from tests.support.jobs import import_report


def _today(app):
    return cycles.local_today(cycles.office_zone(app.config["FIELDCHECK"]))


def _body(app, region_code: str, start: int = -10, end: int = 5, **overrides) -> dict:
    today = _today(app)
    return {
        "region_code": region_code,
        "opens_on": (today + timedelta(days=start)).isoformat(),
        "deadline": (today + timedelta(days=end)).isoformat(),
    } | overrides


def test_a_cycle_gets_the_default_frequency_and_grace_and_is_audited(app, api, world):
    created = api.as_("admin").post("/api/v1/cycles", json=_body(app, world["county"]))
    assert created.status_code == 201, created.text
    cycle = created.json()
    assert (cycle["frequency"], cycle["grace_days"], cycle["program"]) == ("quarterly", 15, None)
    deadline = _today(app) + timedelta(days=5)
    assert cycle["closes_on"] == (deadline + timedelta(days=15)).isoformat()
    with app.app_context():
        entry = db.session().scalars(select(AuditEntry).where(AuditEntry.action == "cycle.created")).one()
        assert entry.object_id == cycle["id"]


def test_bad_cycles_are_refused_with_reasons(app, api, world):
    admin = api.as_("admin")
    assert admin.post("/api/v1/cycles", json=_body(app, world["county"])).status_code == 201

    def refused(client, body) -> tuple[int, dict]:
        response = client.post("/api/v1/cycles", json=body)
        return response.status_code, response.json()["errors"]

    assert refused(admin, _body(app, world["village_a"], start=0, end=3)) == (409, {"opens_on": ["overlapping_cycle"]})
    assert refused(admin, _body(app, world["county"], start=30, end=20)) == (422, {"deadline": ["before_opening"]})
    assert refused(admin, _body(app, world["county"], start=-40, end=-1)) == (422, {"deadline": ["in_the_past"]})
    supervisor_b = api.as_("supervisor_b")
    status, errors = refused(supervisor_b, _body(app, world["township_a"], start=40, end=60))
    assert (status, errors) == (422, {"region_code": ["unknown_region"]})
    status, errors = refused(admin, _body(app, "4310", start=40, end=60))
    assert status == 422 and "region_code" in errors
    status, errors = refused(admin, _body(app, world["county"], start=40, end=60, grace_days=400))
    assert status == 422 and "grace_days" in errors
    assert api.as_("worker_a").post("/api/v1/cycles", json=_body(app, world["village_a"], 40, 60)).status_code == 403
    # A programme's cycle does not overlap another programme's.
    assert (
        admin.post("/api/v1/cycles", json=_body(app, world["township_b"], 40, 60, program="orphan")).status_code == 201
    )
    assert (
        admin.post(
            "/api/v1/cycles", json=_body(app, world["township_b"], 40, 60, program="rural_minimum_allowance")
        ).status_code
        == 201
    )


def test_staff_see_the_cycles_that_concern_their_region(app, api, world):
    admin = api.as_("admin")
    county = admin.post("/api/v1/cycles", json=_body(app, world["county"])).json()
    township_a = admin.post("/api/v1/cycles", json=_body(app, world["township_a"], 30, 60)).json()
    township_b = admin.post("/api/v1/cycles", json=_body(app, world["township_b"], 30, 60)).json()
    listed = api.as_("supervisor_a").get("/api/v1/cycles").json()
    assert {c["id"] for c in listed} == {county["id"], township_a["id"]}
    assert api.as_("supervisor_a").get(f"/api/v1/cycles/{township_b['id']}/status").status_code == 404
    assert {c["id"] for c in admin.get("/api/v1/cycles").json()} == {county["id"], township_a["id"], township_b["id"]}


def test_exemptions_satisfy_the_cycles_they_overlap_and_work_absence_lasts_3_to_12_months(app, api, world):
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1)).json()["id"]
    current = api.as_("admin").post("/api/v1/cycles", json=_body(app, world["county"])).json()
    later = api.as_("admin").post("/api/v1/cycles", json=_body(app, world["county"], 200, 290)).json()
    today = _today(app)

    def exemption(kind: str, months: float, start: int = 0) -> dict:
        return {
            "kind": kind,
            "starts_on": (today + timedelta(days=start)).isoformat(),
            "ends_on": (today + timedelta(days=start + round(months * 30.5))).isoformat(),
            "reason": "外出务工",
        }

    url = f"/api/v1/beneficiaries/{person}/exemptions"
    for months in (2, 13):
        refused = supervisor.post(url, json=exemption("work_absence", months))
        assert (refused.status_code, refused.json()["errors"]) == (422, {"ends_on": ["work_absence_span"]})
    backwards = supervisor.post(url, json=exemption("hospitalisation", -1, start=5))
    assert backwards.json()["errors"] == {"ends_on": ["before_start"]}
    assert api.as_("worker_a").post(url, json=exemption("work_absence", 6)).status_code == 403
    assert api.as_("supervisor_b").post(url, json=exemption("work_absence", 6)).status_code == 404

    granted = supervisor.post(url, json=exemption("work_absence", 4))
    assert granted.status_code == 201, granted.text
    assert [e["id"] for e in supervisor.get(url).json()] == [granted.json()["id"]]

    by_cycle = {c["cycle"]["id"]: c for c in supervisor.get(f"/api/v1/beneficiaries/{person}/cycles").json()}
    assert by_cycle[current["id"]]["satisfied_by"] == ["exemption"]
    assert by_cycle[current["id"]]["phase"] == "open"
    assert by_cycle[later["id"]]["satisfied"] is False
    assert by_cycle[later["id"]]["phase"] == "upcoming"
    with app.app_context():
        entry = db.session().scalars(select(AuditEntry).where(AuditEntry.action == "exemption.granted")).one()
        assert entry.details["kind"] == "work_absence" and entry.reason == "外出务工"


@pytest.mark.usefixtures("celery_worker")
def test_evidence_import_reports_each_row_and_a_repeat_changes_nothing(app, api, world):
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1)).json()["id"]
    orphan = supervisor.post(
        "/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 2, program="orphan")
    ).json()["id"]
    elsewhere = api.as_("supervisor_b").post("/api/v1/beneficiaries", json=beneficiary_body(world["village_b"], 3))
    assert elsewhere.status_code == 201
    cycle = supervisor.post(
        "/api/v1/cycles", json=_body(app, world["township_a"], program="rural_minimum_allowance")
    ).json()
    rows = [
        "id_number,source,reference",
        f"{id_number(world['village_a'], 1)},县人民医院,ZY-0042",
        f"{id_number(world['village_a'], 1)},县人民医院,ZY-0042",
        f"{id_number(world['village_a'], 2)},县人民医院,ZY-0043",
        f"{id_number(world['village_b'], 3)},县人民医院,ZY-0044",
        f"{id_number(world['village_a'], 9)},县人民医院,ZY-0045",
        "430000000000000000,县人民医院,ZY-0046",
        f"{id_number(world['village_a'], 1)},,",
    ]
    # Offices save CSVs from Excel on Chinese Windows: GB18030.
    upload = {"file": ("evidence.csv", "\r\n".join(rows).encode("gb18030"))}
    report = import_report(supervisor, f"/api/v1/cycles/{cycle['id']}/evidence", upload)
    outcome = {row["row"]: (row["status"], [e["reason"] for e in row["errors"]]) for row in report["rows"]}
    assert outcome == {
        2: ("created", []),
        3: ("unchanged", []),
        4: ("error", ["not_in_cycle"]),
        5: ("error", ["not_found"]),
        6: ("error", ["not_found"]),
        7: ("error", [outcome[7][1][0]]),
        8: ("error", ["Missing data for required field.", "Missing data for required field."]),
    }
    assert outcome[7][1][0] != "not_found"
    assert (report["created"], report["unchanged"], report["failed"]) == (1, 1, 5)
    again = import_report(supervisor, f"/api/v1/cycles/{cycle['id']}/evidence", upload)
    assert (again["created"], again["unchanged"]) == (0, 2)

    by_cycle = supervisor.get(f"/api/v1/beneficiaries/{person}/cycles").json()
    assert by_cycle[0]["satisfied_by"] == ["evidence"]
    assert supervisor.get(f"/api/v1/beneficiaries/{orphan}/cycles").json() == []

    bad_header = supervisor.post(
        f"/api/v1/cycles/{cycle['id']}/evidence", files={"file": ("e.csv", b"id_number,name\n1,2\n")}
    )
    assert bad_header.status_code == 422
    assert bad_header.json()["errors"] == {
        "source": ["missing_column"],
        "reference": ["missing_column"],
        "name": ["unknown_column"],
    }


def test_cycles_generate_creates_the_standard_quarters_once(app, world):
    year = _today(app).year + 1
    first = invoke(app, "cycles", "generate", "--region", world["county"], "--year", str(year))
    assert first.exit_code == 0, first.output
    assert f"created {year}-01-01 to {year}-03-31 (grace 15 days)" in first.output
    assert f"created {year}-10-01 to {year}-12-31" in first.output
    again = invoke(app, "cycles", "generate", "--region", world["county"], "--year", str(year))
    assert again.output.count("overlapping_cycle") == 4
    monthly = invoke(
        app, "cycles", "generate", "--region", world["township_a"], "--year", str(year - 2), "--frequency", "monthly"
    )
    assert monthly.output.count("in_the_past") == 12
