"""The beneficiary registry through HTTP: validation, scope, pagination, ETags, encryption at rest, audit."""

import json
import logging

from sqlalchemy import select, text

from server import db
from server.models import AuditEntry
from tests.conftest import beneficiary_body, id_number


def test_create_returns_the_record_with_the_id_number_masked(api, world):
    body = beneficiary_body(world["village_a"], 7)
    response = api.as_("supervisor_a").post("/api/v1/beneficiaries", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["id_number_masked"] == body["id_number"][:4] + "**********" + body["id_number"][-4:]
    assert body["id_number"] not in response.text
    assert created["status"] == "active"
    assert created["monthly_amount"] == "335.00"
    assert response.headers["ETag"]


def test_invalid_input_gets_422_with_reasons_per_field(api, world):
    supervisor = api.as_("supervisor_a")
    bad_check = beneficiary_body(world["village_a"], 1)
    bad_check["id_number"] = bad_check["id_number"][:17] + ("0" if bad_check["id_number"][17] != "0" else "1")
    response = supervisor.post("/api/v1/beneficiaries", json=bad_check)
    assert response.status_code == 422
    assert response.json()["errors"] == {"id_number": ["bad_check_digit"]}

    shape = supervisor.post(
        "/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1, program="pension", home_lat=91)
    )
    assert shape.status_code == 422
    assert set(shape.json()["errors"]) == {"program", "home_lat"}


def test_the_same_id_number_cannot_be_registered_twice(api, world):
    supervisor = api.as_("supervisor_a")
    body = beneficiary_body(world["village_a"], 3)
    assert supervisor.post("/api/v1/beneficiaries", json=body).status_code == 201
    again = supervisor.post("/api/v1/beneficiaries", json=body | {"name": "另一个人"})
    assert again.status_code == 422
    assert again.json()["errors"] == {"id_number": ["already_registered"]}


def test_a_supervisor_cannot_see_or_touch_another_townships_beneficiary(api, world):
    supervisor_a, supervisor_b = api.as_("supervisor_a"), api.as_("supervisor_b")
    created = supervisor_a.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1)).json()
    path = f"/api/v1/beneficiaries/{created['id']}"

    # 404, not 403: the other township must not learn that the person exists.
    assert supervisor_b.get(path).status_code == 404
    assert supervisor_b.patch(path, json={"name": "x"}, headers={"If-Match": "*"}).status_code == 404
    assert supervisor_b.post(f"{path}/photos", files={"photos": ("a.jpg", b"x", "image/jpeg")}).status_code == 404
    assert supervisor_b.get("/api/v1/beneficiaries").json() == []
    # Nor may they register someone into the other township's village.
    response = supervisor_b.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 2))
    assert response.status_code == 422
    assert response.json()["errors"] == {"village_code": ["unknown_village"]}
    # The county admin sees both townships.
    assert api.as_("admin").get(path).status_code == 200


def test_list_filters_and_paginates(api, world):
    admin = api.as_("admin")
    for serial in range(1, 6):
        admin.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], serial))
    admin.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_b"], 9, program="orphan", name="王小明"))

    page = admin.get("/api/v1/beneficiaries", params={"page": 2, "page_size": 2})
    assert page.status_code == 200
    assert len(page.json()) == 2
    assert json.loads(page.headers["X-Pagination"])["total"] == 6
    listed = page.json()[0]
    assert "phone" not in listed and "home_address" not in listed
    # Pages past the first are read by their keys first: together they are the whole list, in its order.
    whole = [b["id"] for b in admin.get("/api/v1/beneficiaries", params={"page_size": 10}).json()]
    paged = [
        b["id"]
        for n in (1, 2, 3)
        for b in admin.get("/api/v1/beneficiaries", params={"page": n, "page_size": 2}).json()
    ]
    assert paged == whole and len(whole) == 6
    township_a = admin.get(
        "/api/v1/beneficiaries", params={"region_code": world["township_a"], "page": 2, "page_size": 4}
    )
    assert [b["village_code"] for b in township_a.json()] == [world["village_a"]]
    assert json.loads(township_a.headers["X-Pagination"])["total"] == 5

    orphans = admin.get("/api/v1/beneficiaries", params={"program": "orphan"}).json()
    assert [b["name"] for b in orphans] == ["王小明"]
    in_b = admin.get("/api/v1/beneficiaries", params={"region_code": world["township_b"]}).json()
    assert [b["village_code"] for b in in_b] == [world["village_b"]]
    assert [b["name"] for b in admin.get("/api/v1/beneficiaries", params={"name": "小明"}).json()] == ["王小明"]


def test_update_needs_the_current_etag(api, world):
    supervisor = api.as_("supervisor_a")
    created = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1))
    path = f"/api/v1/beneficiaries/{created.json()['id']}"
    etag = supervisor.get(path).headers["ETag"]

    unconditional = supervisor.patch(path, json={"monthly_amount": "400.00"})
    assert (unconditional.status_code, unconditional.json()["errors"]) == (428, {"if_match": ["required"]})
    assert "If-Match" in unconditional.json()["message"]
    updated = supervisor.patch(
        path, json={"monthly_amount": "400.00", "reason": "2026 standard"}, headers={"If-Match": etag}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["monthly_amount"] == "400.00"
    assert updated.headers["ETag"] != etag

    stale = supervisor.patch(path, json={"monthly_amount": "1.00"}, headers={"If-Match": etag})
    assert (stale.status_code, stale.json()["errors"]) == (412, {"if_match": ["stale_etag"]})
    assert "again" in stale.json()["message"] and "ETag" in stale.json()["message"]
    assert supervisor.get(path).json()["monthly_amount"] == "400.00"


def test_identity_fields_are_encrypted_at_rest_and_reads_are_audited(app, api, world):
    body = beneficiary_body(world["village_a"], 5, phone="13912345678")
    supervisor = api.as_("supervisor_a")
    created = supervisor.post("/api/v1/beneficiaries", json=body).json()
    supervisor.get(f"/api/v1/beneficiaries/{created['id']}")

    with app.app_context():
        row = (
            db.session()
            .execute(
                text("SELECT id_number, phone, home_address FROM beneficiary WHERE id = :id"), {"id": created["id"]}
            )
            .one()
        )
        for stored, plain in zip(row, [body["id_number"], body["phone"], body["home_address"]], strict=True):
            assert plain.encode() not in bytes(stored)
        actions = (
            db.session()
            .scalars(select(AuditEntry.action).where(AuditEntry.object_id == created["id"]).order_by(AuditEntry.seq))
            .all()
        )
    assert actions == ["beneficiary.created", "beneficiary.viewed"]


def test_id_numbers_never_reach_the_logs(api, world, caplog):
    body = beneficiary_body(world["village_a"], 8)
    supervisor = api.as_("supervisor_a")
    supervisor.post("/api/v1/beneficiaries", json=body)
    supervisor.post("/api/v1/beneficiaries", json=body)
    bad = body | {"id_number": id_number(world["village_a"], 9)[:17] + "Y"}
    supervisor.post("/api/v1/beneficiaries", json=bad)
    assert body["id_number"] not in caplog.text
    assert bad["id_number"] not in caplog.text


def test_an_id_number_finds_exactly_that_person_in_scope_and_is_never_logged(app, api, world, caplog):
    admin = api.as_("admin")
    for serial in (1, 2):
        admin.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], serial))
    wanted = id_number(world["village_a"], 2)

    with caplog.at_level(logging.DEBUG):
        found = admin.post("/api/v1/beneficiaries/search", json={"id_number": wanted})
        elsewhere = api.as_("supervisor_b").post("/api/v1/beneficiaries/search", json={"id_number": wanted})
        malformed = admin.post("/api/v1/beneficiaries/search", json={"id_number": wanted[:-1] + "0"})
        # A URL is kept by browsers' histories and proxies' logs: the list takes no ID number in its query.
        in_url = admin.get("/api/v1/beneficiaries", params={"id_number": wanted})

    assert found.status_code == 200, found.text
    assert [b["name"] for b in found.json()] == ["测试2"]
    assert json.loads(found.headers["X-Pagination"])["total"] == 1
    assert found.json()[0]["id_number_masked"] != wanted
    assert (elsewhere.status_code, elsewhere.json()) == (200, [])
    assert malformed.status_code == 422
    assert wanted not in malformed.text
    assert in_url.status_code == 422 and in_url.json()["errors"] == {"id_number": ["unknown_field"]}, in_url.text
    # Nothing logs the number: not the app, and not the server's request lines (only the refused URL above,
    # which the test client and server log as they would any URL).
    logged = [r.getMessage() for r in caplog.records if wanted in r.getMessage()]
    assert logged and all("GET /api/v1/beneficiaries?id_number=" in message for message in logged), logged
    # Each lookup that ran is audited with whom it found (township B's found nobody), never with the number.
    with app.app_context():
        entries = (
            db.session()
            .scalars(select(AuditEntry).where(AuditEntry.action == "beneficiary.looked_up").order_by(AuditEntry.seq))
            .all()
        )
    assert [(e.object_id, e.details["found"]) for e in entries] == [
        (found.json()[0]["id"], [found.json()[0]["id"]]),
        ("list", []),
    ]
    assert wanted not in str([(e.object_id, e.details, e.reason) for e in entries])
