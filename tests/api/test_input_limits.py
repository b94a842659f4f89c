"""Input that used to answer 500: control characters, page overflow, extreme dates, a cycle that broke
its township, CSV fields past the csv module's limit, JSON nested too deep, a login whose JSON is not an
object; and the protocol details
a client relies on (405 with Allow, X-Pagination as documented)."""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest

from server.api.paging import PaginationMetadataSchema
from server.context import Ctx
from server.models import CaseKind, CycleFrequency
from server.services import cycles
from server.services.audit import Actor
from server.services.errors import DomainError
from tests.conftest import beneficiary_body, id_number
from tests.support.cases import open_test_case
from tests.support.jobs import import_report


def _person(client, world, serial: int = 1, **overrides) -> str:
    response = client.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], serial, **overrides))
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.mark.parametrize("text", ["周\x00老汉", "周\x07老汉", "周\ud800老汉"])
def test_control_characters_in_any_text_field_are_refused_with_422(app, api, world, text):
    supervisor = api.as_("supervisor_a")
    login = api.post("/api/v1/auth/token", json={"username": text, "password": "x" * 12})
    assert login.status_code == 422, login.text
    assert login.json()["errors"] == {"username": ["control_character"]}

    created = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1, name=text))
    assert created.status_code == 422, created.text
    assert created.json()["errors"] == {"name": ["control_character"]}

    # A lone surrogate cannot travel in a URL (it is not UTF-8); NUL and other controls can.
    if "\ud800" not in text:
        for name in ("name", "household_code"):
            listed = supervisor.get("/api/v1/beneficiaries", params={name: text})
            assert listed.status_code == 422, listed.text
            assert listed.json()["errors"] == {name: ["control_character"]}

    person = _person(supervisor, world)
    case_id = open_test_case(app, person, CaseKind.MISSED_CHECKIN)
    decision = supervisor.post(f"/api/v1/cases/{case_id}/decisions", json={"decision": "dismiss", "reason": text})
    assert decision.status_code == 422, decision.text
    if "\ud800" not in text:
        image_path = f"/api/v1/beneficiaries/{person}/photos/{uuid.uuid4()}/image"
        image = supervisor.get(image_path, params={"reason": text})
        assert image.status_code == 422, image.text
    # Keys and nested values too (a visit's free-form checklist), item by item in a sync batch.
    synced = api.as_("worker_a").post(
        "/api/v1/visits/sync", json={"visits": [{"client_id": "abcdefgh", "checklist": {text: "yes"}}]}
    )
    assert synced.status_code == 200, synced.text
    assert synced.json()["results"][0]["status"] == "rejected"
    assert synced.json()["results"][0]["errors"]["checklist"] == ["control_character"]


@pytest.mark.usefixtures("celery_worker")
@pytest.mark.parametrize("text", ["周\x00老汉", "周\x1b老汉"])
def test_control_characters_in_a_roster_cell_are_a_row_error(api, world, text):
    village = world["village_a"]
    roster = (
        f"id_number,name,program,village_code,monthly_amount\n{id_number(village, 2)},{text},orphan,{village},300.00\n"
    )
    # The import runs as a job (202, then its report).
    report = import_report(
        api.as_("supervisor_a"), "/api/v1/beneficiaries/import", {"file": ("r.csv", roster.encode())}
    )
    assert report["failed"] == 1
    assert report["rows"][0]["errors"] == [{"field": "name", "reason": "control_character"}]


def test_a_page_past_the_last_bigint_is_refused_on_every_paginated_list(app, api, world):
    supervisor = api.as_("supervisor_a")
    person = _person(supervisor, world)
    spec = api.get("/openapi.json").json()
    lists = [
        path.replace("{beneficiary_id}", person)
        for path, operations in spec["paths"].items()
        if "X-Pagination" in json.dumps(operations.get("get", {}).get("responses", {}).get("200", {}))
    ]
    assert len(lists) >= 7
    admin_only = {"/api/v1/staff"}
    for path in lists:
        client = api.as_("admin") if path in admin_only else supervisor
        overflow = client.get(path, params={"page": 4611686018427387904})
        assert overflow.status_code == 422, (path, overflow.text)
        assert overflow.json()["errors"] == {"page": ["out_of_range"]}
        assert client.get(path, params={"page_size": 101}).status_code == 422
        assert client.get(path, params={"page": 100000}).status_code == 200


def test_dates_and_periods_outside_2000_to_ten_years_ahead_are_refused(app, api, world):
    supervisor, admin = api.as_("supervisor_a"), api.as_("admin")
    for period in ("0000-01", "1999-12", "9999-12", "6310-12"):
        run = supervisor.post("/api/v1/payment-runs", json={"period": period, "region": world["township_a"]})
        assert run.status_code == 422, (period, run.text)
        assert supervisor.get("/api/v1/payment-runs", params={"period": period}).status_code == 422
    coverage = supervisor.get(
        "/api/v1/reports/coverage", params={"region": world["township_a"], "from": "0001-01-01", "to": "9999-12-31"}
    )
    assert coverage.status_code == 422, coverage.text
    assert set(coverage.json()["errors"]) == {"from", "to"}

    person = _person(supervisor, world)
    exemption = supervisor.post(
        f"/api/v1/beneficiaries/{person}/exemptions",
        json={"kind": "hospitalisation", "starts_on": "2026-01-01", "ends_on": "9999-12-31", "reason": "ward 3"},
    )
    assert exemption.status_code == 422, exemption.text
    case_id = open_test_case(app, person, CaseKind.MISSED_CHECKIN)
    extend = supervisor.post(
        f"/api/v1/cases/{case_id}/decisions", json={"decision": "extend", "reason": "ill", "new_deadline": "9999-12-31"}
    )
    assert extend.status_code == 422, extend.text
    far = admin.get("/api/v1/visits", params={"started_from": "9999-12-31T23:59:59-14:00"})
    assert far.status_code == 422, far.text


def test_a_cycle_at_the_end_of_the_calendar_is_refused_and_stores_nothing(app, api, world):
    admin = api.as_("admin")
    person = _person(api.as_("supervisor_a"), world)
    response = admin.post(
        "/api/v1/cycles",
        json={"region_code": world["township_a"], "opens_on": "9999-12-01", "deadline": "9999-12-31"},
    )
    assert response.status_code == 422, response.text
    assert admin.get("/api/v1/cycles").json() == []
    assert admin.get(f"/api/v1/beneficiaries/{person}/cycles").status_code == 200


def test_the_cycle_service_checks_the_window_itself(app, world):
    with app.app_context():
        with pytest.raises(DomainError) as refused:
            cycles.create_cycle(
                Ctx.current(),
                actor=Actor(kind="system", id="test"),
                region_code=world["township_a"],
                program=None,
                frequency=CycleFrequency.QUARTERLY,
                opens_on=date(9999, 12, 1),
                deadline=date(9999, 12, 31),
                grace_days=15,
                today=date(2026, 12, 1),
            )
        assert refused.value.errors == {"opens_on": ["out_of_range"]}


@pytest.mark.parametrize(
    ("path", "header"),
    [
        ("/api/v1/beneficiaries/import", "id_number,name,program,village_code,monthly_amount"),
        ("/api/v1/death-records/import", "id_number,date_of_death"),
        ("/api/v1/cycles/{cycle}/evidence", "id_number,source,reference"),
    ],
)
def test_a_csv_field_past_the_csv_modules_limit_refuses_the_file_with_422(app, api, world, path, header):
    supervisor = api.as_("supervisor_a")
    if "{cycle}" in path:
        cycle = api.as_("admin").post(
            "/api/v1/cycles",
            json={"region_code": world["township_a"], "opens_on": "2030-01-01", "deadline": "2030-03-31"},
        )
        path = path.replace("{cycle}", cycle.json()["id"])
    good = id_number(world["village_a"], 1)
    data = f"{header}\n{good},{'x' * 140_000}\n".encode()
    response = supervisor.post(path, files={"file": ("big.csv", data, "text/csv")})
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == {"file": ["malformed_csv"]}
    assert api.as_("supervisor_a").get("/api/v1/beneficiaries").json() == []


def test_json_nested_too_deep_is_refused_before_it_is_parsed(app, api, world):
    supervisor = api.as_("supervisor_a")
    deep = "[" * 10_000 + "]" * 10_000
    metadata = supervisor.post(
        "/api/v1/checkins",
        data={"metadata": deep},
        files={"frames": ("f.jpg", b"\xff\xd8\xff", "image/jpeg")},
    )
    assert metadata.status_code == 422, metadata.text
    assert "too_deep" in json.dumps(metadata.json()["errors"])
    body = supervisor.post(
        "/api/v1/visits/sync", data=f'{{"visits": {deep}}}', headers={"Content-Type": "application/json"}
    )
    assert body.status_code == 422, body.text
    assert body.json()["errors"] == {"json": ["too_deep"]}
    # Brackets inside strings are text, not nesting.
    assert supervisor.post("/api/v1/auth/token", json={"username": "[" * 60, "password": "x"}).status_code == 401


@pytest.mark.parametrize("sent", ["2.0", "[]", '"supervisor_a"', "null", "true"])
def test_a_login_whose_json_is_not_an_object_is_refused_with_422(api, world, sent):
    # The login's throttle reads the username before the schema does: it must not trip over the body either.
    response = api.http.post(
        f"{api.base_url}/api/v1/auth/token", data=sent, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"], response.text


def test_405_names_the_allowed_methods(api, world):
    response = api.as_("supervisor_a").delete("/api/v1/beneficiaries")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert response.json()["code"] == 405


def test_x_pagination_is_the_json_object_the_document_declares(api, world):
    supervisor = api.as_("supervisor_a")
    _person(supervisor, world)
    response = supervisor.get("/api/v1/beneficiaries")
    metadata = json.loads(response.headers["X-Pagination"])
    assert PaginationMetadataSchema().validate(metadata) == {}
    assert metadata["total"] == 1
    header = api.get("/openapi.json").json()["components"]["headers"]["PAGINATION"]
    assert header["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/PaginationMetadata"}
