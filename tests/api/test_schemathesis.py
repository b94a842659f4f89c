"""Every operation of the OpenAPI document, fuzzed with schemathesis against the live server as a
supervisor and as an admin: no input may answer 5xx, and every answer must match the document.

The run is bounded (a few examples per operation, no shrinking) so that it fits in the suite; the
path parameters name real records where the test has them, so the requests reach the services
rather than stopping at a 404.
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)

from tests.conftest import beneficiary_body
from tests.support.jobs import payment_run

EXAMPLES_PER_OPERATION = 15
CHECKS = [not_a_server_error, response_schema_conformance, response_headers_conformance, content_type_conformance]


@pytest.fixture
def records(api, world, celery_worker) -> dict[str, str]:
    """A person, a cycle and a payment run in township A, for the path parameters that name them."""
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1))
    assert person.status_code == 201, person.text
    cycle = api.as_("admin").post(
        "/api/v1/cycles", json={"region_code": world["township_a"], "opens_on": "2031-01-01", "deadline": "2031-03-31"}
    )
    assert cycle.status_code == 201, cycle.text
    run = payment_run(supervisor, "2026-11", world["township_a"])
    return {"beneficiary_id": person.json()["id"], "cycle_id": cycle.json()["id"], "run_id": run["id"]}


def test_no_input_answers_a_server_error_or_breaks_the_document(live_url, api, records):
    schema = schemathesis.openapi.from_url(f"{live_url}/openapi.json")
    tokens = [api.as_(username).http.headers["Authorization"] for username in ("supervisor_a", "admin")]
    failures: list[str] = []
    operations = examples = server_errors = 0
    started = time.monotonic()

    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        known = {name: value for name, value in records.items() if f"{{{name}}}" in operation.path}

        # Valid inputs and inputs that break the document's rules, half and half.
        strategy = operation.as_strategy(path_parameters=known) | operation.as_strategy(
            GenerationMode.NEGATIVE, path_parameters=known
        )

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case) -> None:
            nonlocal examples, server_errors
            for token in tokens:
                response = case.call(base_url=live_url, headers={"Authorization": token}, timeout=30)
                examples += 1
                server_errors += response.status_code >= 500
                case.validate_response(response, checks=CHECKS, headers={"Authorization": token})

        try:
            fuzz()
        # Every operation is tried and the failures reported together (schemathesis raises groups).
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.label}: {exc}")

    elapsed = time.monotonic() - started
    print(f"schemathesis: {operations} operations, {examples} requests, {server_errors} 5xx in {elapsed:.0f} s")
    assert operations >= 50
    assert not failures, "\n\n".join(failures)
