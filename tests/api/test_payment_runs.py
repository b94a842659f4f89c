"""Payment runs through HTTP: who is paid and withheld, one run per period and region, CSV and XLSX exports."""

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from server import db
from server.models import AuditEntry, Beneficiary, CaseKind
from tests.conftest import beneficiary_body, id_number
from tests.support.cases import open_test_case
from tests.support.jobs import finished_job, import_report, payment_run

pytestmark = pytest.mark.usefixtures("celery_worker")


def _people(app, api, world) -> dict[str, str]:
    supervisor = api.as_("supervisor_a")
    bodies = {
        "张三": beneficiary_body(world["village_a"], 1, name="张三", monthly_amount="335.00"),
        "李四": beneficiary_body(world["village_a"], 2, name="李四", monthly_amount="335.00"),
        "王五": beneficiary_body(world["village_a"], 3, name="王五", monthly_amount="580.50"),
    }
    people = {name: supervisor.post("/api/v1/beneficiaries", json=body).json()["id"] for name, body in bodies.items()}
    with app.app_context():
        db.session().execute(update(Beneficiary).values(created_at=datetime(2026, 1, 5, tzinfo=UTC)))
        db.session().commit()
    return people


def _suspend(api, case_id: str, effective_on: str) -> None:
    proposal = (
        api.as_("supervisor_a")
        .post(
            f"/api/v1/cases/{case_id}/decisions",
            json={"decision": "suspend", "reason": "no check-in", "effective_on": effective_on},
        )
        .json()
    )
    api.as_("supervisor_a2").post(f"/api/v1/cases/{case_id}/decisions/{proposal['id']}/approve", json={})


def test_a_run_pays_the_active_withholds_the_suspended_and_stands_once_built(app, api, world):
    people = _people(app, api, world)
    _suspend(api, open_test_case(app, people["李四"]), "2026-10-01")
    _suspend(api, open_test_case(app, people["王五"]), "2026-12-01")
    supervisor = api.as_("supervisor_a")

    built = supervisor.post("/api/v1/payment-runs", json={"period": "2026-11", "region": world["township_a"]})
    # Built as a job: the request answers at once.
    assert built.status_code == 202, built.text
    job = finished_job(supervisor, built.headers["Location"])
    assert (job["kind"], job["state"]) == ("payment_run", "done")
    run = supervisor.get(job["result_url"]).json()
    assert supervisor.get(f"/api/v1/payment-runs/{run['id']}").json() == run
    # 王五's suspension starts in December: November is still paid.
    assert run["counts"] == {"pay": 2, "suspended": 1, "reinstated_arrears": 0, "terminated": 0}
    assert (run["total_amount"], run["total_arrears"]) == ("915.50", "0.00")

    again = supervisor.post("/api/v1/payment-runs", json={"period": "2026-11", "region": world["township_a"]})
    assert (again.status_code, again.json()["id"]) == (200, run["id"])
    overlapping = api.as_("admin").post("/api/v1/payment-runs", json={"period": "2026-11", "region": world["county"]})
    assert overlapping.status_code == 409
    assert overlapping.json()["errors"] == {"region": ["overlapping_run"], "run_id": [run["id"]]}
    bad_period = supervisor.post("/api/v1/payment-runs", json={"period": "2026-13", "region": world["township_a"]})
    assert bad_period.status_code == 422
    elsewhere = supervisor.post("/api/v1/payment-runs", json={"period": "2026-11", "region": world["township_b"]})
    assert elsewhere.json()["errors"] == {"region": ["unknown_region"]}
    assert api.as_("supervisor_b").get(f"/api/v1/payment-runs/{run['id']}").status_code == 404


def test_exports_list_masked_ids_amounts_and_totals_in_csv_and_xlsx(app, api, world):
    people = _people(app, api, world)
    _suspend(api, open_test_case(app, people["李四"]), "2026-10-01")
    supervisor = api.as_("supervisor_a")
    run = payment_run(supervisor, "2026-11", world["township_a"])

    exported = supervisor.get(f"/api/v1/payment-runs/{run['id']}/export", params={"format": "csv"})
    assert exported.status_code == 200
    assert exported.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "payment-run-431099001-2026-11.csv" in exported.headers["Content-Disposition"]
    text = exported.content.decode("utf-8-sig")
    for serial in (1, 2, 3):
        assert id_number(world["village_a"], serial) not in text
    rows = list(csv.reader(io.StringIO(text)))
    masked = {row[1]: row[2] for row in rows[1:4]}
    header = ["village_code", "name", "id_number_masked", "category", "amount", "arrears_amount", "total", "flag"]
    assert rows[0] == header
    assert sorted(row[1:2] + row[3:7] for row in rows[1:4]) == [
        ["张三", "pay", "335.00", "0.00", "335.00"],
        ["李四", "suspended", "0.00", "0.00", "0.00"],
        ["王五", "pay", "580.50", "0.00", "580.50"],
    ]
    assert all("*" in value for value in masked.values())
    assert rows[4] == []
    assert rows[5:] == [
        ["category", "count", "amount", "arrears_amount", "total"],
        ["pay", "2", "915.50", "0.00", "915.50"],
        ["suspended", "1", "0.00", "0.00", "0.00"],
        ["reinstated_arrears", "0", "0.00", "0.00", "0.00"],
        ["terminated", "0", "0.00", "0.00", "0.00"],
        ["all", "3", "915.50", "0.00", "915.50"],
    ]

    xlsx = supervisor.get(f"/api/v1/payment-runs/{run['id']}/export", params={"format": "xlsx"})
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.title == "2026-11"
    cells = list(sheet.iter_rows(values_only=True))
    assert list(cells[0]) == header
    by_name = {row[1]: row for row in cells[1:4]}
    assert by_name["王五"][2] == masked["王五"]
    assert float(by_name["王五"][4]) == 580.5
    assert cells[-1][:5] == ("all", 3, 915.5, 0, 915.5)
    assert supervisor.get(f"/api/v1/payment-runs/{run['id']}/export", params={"format": "pdf"}).status_code == 422

    with app.app_context():
        exports = (
            db.session()
            .execute(
                select(AuditEntry.actor_id, AuditEntry.details)
                .where(AuditEntry.action == "payment_run.exported", AuditEntry.object_id == run["id"])
                .order_by(AuditEntry.seq)
            )
            .all()
        )
    me = supervisor.get("/api/v1/me").json()["id"]
    assert [(actor, details["format"]) for actor, details in exports] == [(me, "csv"), (me, "xlsx")]


def _terminate(api, case_id: str, effective_on: str) -> None:
    proposal = api.as_("supervisor_a").post(
        f"/api/v1/cases/{case_id}/decisions",
        json={"decision": "terminate", "reason": "found at the home visit", "effective_on": effective_on},
    )
    assert proposal.status_code == 201, proposal.text
    approve = f"/api/v1/cases/{case_id}/decisions/{proposal.json()['id']}/approve"
    assert api.as_("supervisor_a2").post(approve, json={}).status_code == 200


def _flags(supervisor, run_id: str) -> dict[str, tuple[str, str]]:
    exported = supervisor.get(f"/api/v1/payment-runs/{run_id}/export").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported)))[1:]
    return {row[1]: (row[3], row[7]) for row in rows[: rows.index([])]}


def test_payments_after_any_termination_are_flagged_and_listed_for_recovery(app, api, world):
    people = _people(app, api, world)
    supervisor = api.as_("supervisor_a")
    runs = {period: payment_run(supervisor, period, world["township_a"]) for period in ("2026-10", "2026-11")}
    # 张三: a visit found him gone and he was terminated from 15 October, after both runs were built.
    _terminate(api, open_test_case(app, people["张三"], kind=CaseKind.VISIT_FINDING), "2026-10-15")
    # 李四: terminated from 31 October on a missed check-in.
    _terminate(api, open_test_case(app, people["李四"]), "2026-10-31")

    assert _flags(supervisor, runs["2026-10"]["id"])["张三"] == ("pay", "")
    assert _flags(supervisor, runs["2026-11"]["id"])["张三"] == ("pay", "paid_after_termination")
    assert _flags(supervisor, runs["2026-11"]["id"])["李四"] == ("pay", "paid_after_termination")

    # The registry then says 张三 died in September: October was paid after his death too.
    death = f"id_number,date_of_death\n{id_number(world['village_a'], 1)},2026-09-20\n"
    files = {"file": ("deaths.csv", death.encode(), "text/csv")}
    # The import runs as a job (202, then its report).
    imported = import_report(supervisor, "/api/v1/death-records/import", files)
    assert (imported["already_terminated"], imported["flagged_payments"]) == (1, 2)
    assert _flags(supervisor, runs["2026-10"]["id"])["张三"] == ("pay", "paid_after_death")
    assert _flags(supervisor, runs["2026-11"]["id"])["张三"] == ("pay", "paid_after_death")

    # A run built afterwards pays neither: listed once as terminated, nothing to recover.
    december = payment_run(supervisor, "2026-12", world["township_a"])
    assert _flags(supervisor, december["id"])["张三"] == ("terminated", "")

    listed = supervisor.get("/api/v1/payment-runs/recoveries", params={"region": world["township_a"]})
    assert listed.status_code == 200, listed.text
    assert [(r["name"], [m["period"] for m in r["months"]], r["amount"]) for r in listed.json()] == [
        ("张三", ["2026-10", "2026-11"], "670.00"),
        ("李四", ["2026-11"], "335.00"),
    ]
    assert listed.json()[0]["terminated_on"] == "2026-10-15"
    assert listed.json()[0]["months"][0] == {
        "period": "2026-10",
        "run_id": runs["2026-10"]["id"],
        "amount": "335.00",
        "flag": "paid_after_death",
    }
    exported = supervisor.get(
        "/api/v1/payment-runs/recoveries", params={"region": world["township_a"], "format": "csv"}
    )
    assert exported.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == ["village_code", "name", "id_number_masked", "terminated_on", "flag", "months", "amount"]
    assert [row[1] for row in rows[1:3]] == ["张三", "李四"]
    assert rows[1][3:] == ["2026-10-15", "paid_after_death", "2026-10;2026-11", "670.00"]
    assert rows[-1] == ["all", "", "", "", "", "3", "1005.00"]
    assert (
        api.as_("supervisor_b").get("/api/v1/payment-runs/recoveries", params={"region": world["township_b"]}).json()
        == []
    )
    out_of_scope = api.as_("supervisor_b").get(
        "/api/v1/payment-runs/recoveries", params={"region": world["township_a"]}
    )
    assert out_of_scope.status_code == 422
