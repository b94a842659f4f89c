"""The console builds a payment run as a job: a page that refreshes itself until the run is there."""

from __future__ import annotations

import pytest

from tests.conftest import beneficiary_body, wait_for

pytestmark = pytest.mark.usefixtures("celery_worker")


def test_building_a_run_shows_progress_then_the_run_and_building_again_shows_the_same_run(api, console, world):
    assert api.as_("supervisor_a").post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1))
    supervisor = console("supervisor_a")
    form = {"period": "2026-11", "region": world["township_a"]}

    started = supervisor.post("/payment-runs", form, allow_redirects=False)
    assert started.status_code == 303, started.text[:500]
    building = started.headers["Location"]
    assert "/payment-runs/building/" in building
    # Until the worker is done the page asks again by itself (an HTTP Refresh header, no script).
    page = supervisor.get(building, allow_redirects=False)
    if page.status_code == 200:
        assert page.headers["Refresh"] == "1"
        assert "正在生成发放批次" in page.text
    run = wait_for(lambda: (r := supervisor.get(building)).url != f"{supervisor.base_url}{building}" and r)
    assert "发放批次已生成" in run.text
    assert "/payment-runs/" in run.url

    again = supervisor.post("/payment-runs", form)
    assert again.url == run.url
    assert "该发放批次已存在" in again.text
    # Another region's supervisor cannot follow the job.
    assert console("supervisor_b").get(building).status_code == 404
