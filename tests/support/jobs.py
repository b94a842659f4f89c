"""Jobs for tests (imports, payment run builds): start, poll the job the 202 points to, read its report."""

from __future__ import annotations

from tests.conftest import Api, wait_for


def finished_job(client: Api, location: str, *, timeout: float = 120) -> dict:
    """Poll a job until it is done or failed."""
    return wait_for(
        lambda: (job := client.get(location).json())["state"] in ("done", "failed") and job, timeout=timeout
    )


def import_report(client: Api, path: str, files: dict) -> dict:
    """Upload an import, wait for its job, and return its report."""
    response = client.post(path, files=files)
    assert response.status_code == 202, response.text
    job = finished_job(client, response.headers["Location"])
    assert job["state"] == "done", job
    assert job["done"] == job["total"]
    return client.get(job["result_url"]).json()


def payment_run(client: Api, period: str, region: str) -> dict:
    """Build a payment run through its job (202, then the run at `result_url`), or the run that exists (200)."""
    response = client.post("/api/v1/payment-runs", json={"period": period, "region": region})
    if response.status_code == 200:
        return response.json()
    assert response.status_code == 202, response.text
    job = finished_job(client, response.headers["Location"])
    assert (job["state"], job["kind"], job["done"], job["total"]) == ("done", "payment_run", 1, 1), job
    return client.get(job["result_url"]).json()
