"""Death records through HTTP and the CLI: a match opens a case proposing termination from the date of death,
payments for later months are flagged, importing again changes nothing, termination needs four eyes."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from server import db
from server.models import Beneficiary
from tests.conftest import beneficiary_body, id_number, office_today
from tests.support.cases import audit_actions
from tests.support.cli import run_command
from tests.support.jobs import import_report, payment_run

pytestmark = pytest.mark.usefixtures("celery_worker")


def _files(text: str, encoding: str = "utf-8") -> dict:
    return {"file": ("deaths.csv", text.encode(encoding), "text/csv")}


def _import(client, text: str, encoding: str = "utf-8") -> dict:
    return import_report(client, "/api/v1/death-records/import", _files(text, encoding))


def _registered(app, api, world) -> tuple[str, str]:
    supervisor = api.as_("supervisor_a")
    died = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1, name="周老汉")).json()
    alive = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 2)).json()
    with app.app_context():
        db.session().execute(update(Beneficiary).values(created_at=datetime(2026, 1, 5, tzinfo=UTC)))
        db.session().commit()
    return died["id"], alive["id"]


def test_a_death_record_opens_a_case_and_flags_payments_after_the_death(app, api, world):
    died, _alive = _registered(app, api, world)
    supervisor = api.as_("supervisor_a")
    for period in ("2026-09", "2026-10"):
        assert payment_run(supervisor, period, world["township_a"])["period"] == period
    october = supervisor.get("/api/v1/payment-runs", params={"period": "2026-10"}).json()[0]
    # Someone in the other township: supervisor_a's import must not reach or reveal them.
    api.as_("supervisor_b").post("/api/v1/beneficiaries", json=beneficiary_body(world["village_b"], 3))
    village = world["village_a"]
    tomorrow = (office_today() + timedelta(days=1)).isoformat()
    text = "\n".join(
        [
            "id_number,date_of_death,source,reference",
            f"{id_number(village, 1)},2026-09-10,civil_registry,DR-2026-0917",
            f"{id_number(village, 7)},2026-09-11,civil_registry,DR-2026-0918",
            f"{id_number(world['village_b'], 3)},2026-09-12,funeral_home,",
            "4310991945031200,2026-09-12,,",
            f"{id_number(village, 2)},{tomorrow},,",
            f"{id_number(village, 2)},12/09/2026,,",
        ]
    )
    body = _import(supervisor, text)
    assert [row["status"] for row in body["rows"]] == [
        "case_opened",
        "no_match",
        "no_match",
        "error",
        "error",
        "error",
    ]
    assert body["rows"][4]["errors"] == [{"field": "date_of_death", "reason": "in_future"}]
    assert body["rows"][5]["errors"][0]["field"] == "date_of_death"
    assert (body["case_opened"], body["no_match"], body["failed"], body["flagged_payments"]) == (1, 2, 3, 1)

    case = supervisor.get(f"/api/v1/cases/{body['rows'][0]['case_id']}").json()
    assert (case["kind"], case["state"], case["beneficiary_id"]) == ("death_record", "open", died)
    assert case["details"]["proposal"] == {"decision": "terminate", "effective_on": "2026-09-10"}
    assert case["details"]["reference"] == "DR-2026-0917"
    # September was due to him (he died in it); October was paid after his death.
    assert case["details"]["payments_after_death"] == [
        {"run_id": october["id"], "period": "2026-10", "amount": "335.00"}
    ]
    exported = supervisor.get(f"/api/v1/payment-runs/{october['id']}/export").content.decode("utf-8-sig")
    flags = {row[1]: row[7] for row in list(csv.reader(io.StringIO(exported)))[1:3]}
    assert flags == {"周老汉": "paid_after_death", "测试2": ""}

    again = _import(supervisor, text)
    assert [row["status"] for row in again["rows"]][:1] == ["already_recorded"]
    assert len(supervisor.get("/api/v1/cases", params={"kind": "death_record"}).json()) == 1


def test_termination_from_the_date_of_death_needs_a_second_person(app, api, world):
    died, _alive = _registered(app, api, world)
    supervisor = api.as_("supervisor_a")
    text = f"id_number,date_of_death\n{id_number(world['village_a'], 1)},2026-09-10\n"
    case_id = _import(supervisor, text)["rows"][0]["case_id"]

    proposal = supervisor.post(
        f"/api/v1/cases/{case_id}/decisions", json={"decision": "terminate", "reason": "registry death record"}
    ).json()
    assert (proposal["status"], proposal["params"]["effective_on"]) == ("pending", "2026-09-10")
    approve = f"/api/v1/cases/{case_id}/decisions/{proposal['id']}/approve"
    assert supervisor.post(approve, json={}).status_code == 403
    assert api.as_("admin").post(approve, json={"reason": "checked with the family"}).status_code == 200
    assert supervisor.get(f"/api/v1/beneficiaries/{died}").json()["status"] == "terminated"
    assert supervisor.get(f"/api/v1/cases/{case_id}").json()["state"] == "terminated"
    assert "beneficiary.terminated" in audit_actions(app, died)

    # The payer hears of the termination once, in the next run, and never again.
    november = payment_run(supervisor, "2026-11", world["township_a"])
    assert november["counts"] == {"pay": 1, "suspended": 0, "reinstated_arrears": 0, "terminated": 1}
    december = payment_run(supervisor, "2026-12", world["township_a"])
    assert december["counts"]["terminated"] == 0
    assert _import(supervisor, text)["rows"][0]["status"] == "already_terminated"


def test_a_file_with_the_wrong_header_is_refused_and_gb18030_is_read(api, world):
    supervisor = api.as_("supervisor_a")
    refused = supervisor.post("/api/v1/death-records/import", files=_files("身份证号,死亡日期\n1,2\n"))
    assert refused.status_code == 422
    assert refused.json()["errors"]["id_number"] == ["missing_column"]
    supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1))
    text = f"id_number,date_of_death,source\n{id_number(world['village_a'], 1)},2026-09-10,殡仪馆\n"
    assert _import(supervisor, text, encoding="gb18030")["case_opened"] == 1
    assert (
        api.as_("worker_a")
        .post("/api/v1/death-records/import", files={"file": ("d.csv", text.encode(), "text/csv")})
        .status_code
        == 403
    )


def test_the_cli_imports_death_records_with_a_report(app, api, world, tmp_path):
    _registered(app, api, world)
    records = tmp_path / "deaths.csv"
    records.write_text(f"id_number,date_of_death\n{id_number(world['village_a'], 1)},2026-09-10\nbad,row\n")
    result = run_command(app, tmp_path / "instance", "import-deaths", str(records), "--as", "supervisor_a")
    assert result.returncode == 0, result.stderr
    assert "row 3: id_number" in result.stdout
    assert "cases opened 1, already recorded 0, already terminated 0, no match 0, failed 1" in result.stdout
    assert len(api.as_("supervisor_a").get("/api/v1/cases", params={"kind": "death_record"}).json()) == 1
