"""Roster CSV import: a report per row, idempotent by ID number, from the API and the CLI."""

import pytest

from tests.conftest import id_number
from tests.support.cli import run_command
from tests.support.jobs import import_report

pytestmark = pytest.mark.usefixtures("celery_worker")

HEADER = "id_number,name,program,village_code,monthly_amount,household_code,phone\n"


def _roster(village: str, *, serials=(1, 2, 3)) -> str:
    rows = [
        f"{id_number(village, s)},村民{s},rural_minimum_allowance,{village},335.00,HH{s:03d},1380013800{s}"
        for s in serials
    ]
    return HEADER + "\n".join(rows) + "\n"


def _files(csv_text: str, encoding: str = "utf-8") -> dict:
    return {"file": ("roster.csv", csv_text.encode(encoding), "text/csv")}


def _import(client, csv_text: str, encoding: str = "utf-8") -> dict:
    return import_report(client, "/api/v1/beneficiaries/import", _files(csv_text, encoding))


def test_a_roster_imports_once_and_again_changes_nothing(api, world):
    supervisor = api.as_("supervisor_a")
    first = _import(supervisor, _roster(world["village_a"]))
    assert (first["created"], first["failed"]) == (3, 0)

    second = _import(supervisor, _roster(world["village_a"]))
    assert (second["created"], second["unchanged"], second["updated"]) == (0, 3, 0)
    assert len(supervisor.get("/api/v1/beneficiaries").json()) == 3


def test_bad_rows_are_reported_by_line_and_field_and_do_not_stop_the_rest(api, world):
    village = world["village_a"]
    good = id_number(village, 1)
    broken_check = id_number(village, 2)[:17] + ("1" if id_number(village, 2)[17] != "1" else "2")
    text = HEADER + "\n".join(
        [
            f"{good},张三,rural_minimum_allowance,{village},335.00,,",
            f"{broken_check},李四,rural_minimum_allowance,{village},335.00,,",
            f"{id_number(village, 3)},王五,pension,{village},335.00,,",
            f"{id_number(village, 4)},,rural_minimum_allowance,{village},335.00,,",
            f"{id_number(world['village_b'], 5)},赵六,orphan,{world['village_b']},100.00,,",
            f"{id_number(village, 6)},钱七,orphan,{village},100.00,,",
        ]
    )
    report = _import(api.as_("supervisor_a"), text)
    by_row = {row["row"]: row for row in report["rows"]}
    assert [by_row[n]["status"] for n in range(2, 8)] == ["created", "error", "error", "error", "error", "created"]
    assert by_row[3]["errors"] == [{"field": "id_number", "reason": "bad_check_digit"}]
    assert [e["field"] for e in by_row[4]["errors"]] == ["program"]
    assert [e["field"] for e in by_row[5]["errors"]] == ["name"]
    assert by_row[6]["errors"] == [{"field": "village_code", "reason": "unknown_village"}]


def test_gb18030_files_from_chinese_excel_are_read(api, world):
    report = _import(api.as_("supervisor_a"), _roster(world["village_a"], serials=(4,)), encoding="gb18030")
    assert report["created"] == 1
    assert api.as_("supervisor_a").get("/api/v1/beneficiaries").json()[0]["name"] == "村民4"


def test_a_file_with_the_wrong_header_is_refused_whole(api, world):
    response = api.as_("supervisor_a").post("/api/v1/beneficiaries/import", files=_files("name,village\n张三,1\n"))
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["id_number"] == ["missing_column"]
    assert errors["village"] == ["unknown_column"]


def test_the_cli_imports_with_a_progress_bar_and_a_report(app, api, world, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(_roster(world["village_a"], serials=(1, 2)) + "bad,row,x,y,z,,\n", encoding="utf-8")
    result = run_command(app, tmp_path / "instance", "import-beneficiaries", str(roster), "--as", "supervisor_a")
    assert result.returncode == 0, result.stderr
    assert "importing" in result.stderr
    assert "row 4: id_number" in result.stdout
    assert "created 2, updated 0, unchanged 0, failed 1" in result.stdout
    assert len(api.as_("supervisor_a").get("/api/v1/beneficiaries").json()) == 2
