"""One error shape for every refusal, unknown query parameters refused, and the statuses the document declares."""

from __future__ import annotations

import uuid

from tests.conftest import beneficiary_body


def _shape(response) -> dict:
    body = response.json()
    assert set(body) == {"code", "status", "message", "errors"}, body
    assert body["code"] == response.status_code and body["message"]
    assert all(isinstance(codes, list) for codes in body["errors"].values())
    return body["errors"]


def test_schema_errors_name_the_field_without_its_location_and_keep_nested_paths(api, world):
    supervisor = api.as_("supervisor_a")
    assert _shape(
        supervisor.post("/api/v1/beneficiaries", json={**beneficiary_body(world["village_a"], 1), "x": 1})
    ) == {"x": ["unknown_field"]}
    worker = api.as_("worker_a")
    visit = {"client_id": "e1", "beneficiary_id": str(uuid.uuid4()), "gps": [{"lat": "north"}]}
    errors = _shape(worker.post("/api/v1/visits", json=visit))
    assert errors["gps.0.lat"] == ["invalid_number"]
    assert errors["started_at"] == ["required"]


def test_unknown_query_parameters_answer_422(api, world):
    supervisor = api.as_("supervisor_a")
    assert _shape(supervisor.get("/api/v1/beneficiaries", params={"surname": "张"})) == {"surname": ["unknown_field"]}
    # An operation without query parameters takes none.
    assert _shape(supervisor.get("/api/v1/visits/checklists", params={"v": "1"})) == {"v": ["unknown_field"]}
    assert supervisor.get("/api/v1/beneficiaries", params={"page": 1, "page_size": 5, "status": "active"}).ok
    # Pages outside the API keep their own query strings.
    assert api.get("/docs", params={"lang": "zh"}).ok


def test_precondition_answers_say_what_to_send(api, world):
    supervisor = api.as_("supervisor_a")
    created = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 2)).json()
    path = f"/api/v1/beneficiaries/{created['id']}"
    missing = supervisor.patch(path, json={"monthly_amount": "400.00", "reason": "x"})
    assert (missing.status_code, _shape(missing)) == (428, {"if_match": ["required"]})
    assert "If-Match" in missing.json()["message"] and path in missing.json()["message"]
    stale = supervisor.patch(path, json={"monthly_amount": "400.00", "reason": "x"}, headers={"If-Match": '"old"'})
    assert (stale.status_code, _shape(stale)) == (412, {"if_match": ["stale_etag"]})
    assert "If-Match" in stale.json()["message"]


def test_the_statuses_operations_answer_are_declared(app, api, world):
    spec = app.extensions["fieldcheck.api"].spec.to_dict()["paths"]
    supervisor, worker = api.as_("supervisor_a"), api.as_("worker_a")
    nobody = uuid.uuid4()
    observed = {
        ("/api/v1/checkins", "post"): {
            api.post("/api/v1/checkins").status_code,
            supervisor.post("/api/v1/checkins", data={"metadata": "{}"}).status_code,
        },
        ("/api/v1/beneficiaries/{beneficiary_id}", "get"): {
            api.get(f"/api/v1/beneficiaries/{nobody}").status_code,
            supervisor.get(f"/api/v1/beneficiaries/{nobody}").status_code,
            supervisor.get(f"/api/v1/beneficiaries/{nobody}", params={"x": 1}).status_code,
        },
        ("/api/v1/beneficiaries", "post"): {worker.post("/api/v1/beneficiaries", json={}).status_code},
        ("/api/v1/cases/{case_id}", "patch"): {
            supervisor.patch(f"/api/v1/cases/{nobody}", json={"assigned_to": None}).status_code,
        },
    }
    assert observed[("/api/v1/checkins", "post")] == {401, 422}
    assert observed[("/api/v1/beneficiaries/{beneficiary_id}", "get")] == {401, 404, 422}
    for (path, method), statuses in observed.items():
        declared = set(spec[path][method]["responses"])
        assert {str(s) for s in statuses} <= declared, (path, method, statuses, declared)
