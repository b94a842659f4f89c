"""Photo changes in the console over real HTTP: the queue holds the region's own proposals only, a change
of someone outside the region is not found, and the proposer's own approval is refused in words."""

from __future__ import annotations

import pytest

from tests.support.checkins import enrolled_person
from tests.support.photos import photo_bytes


@pytest.mark.usefixtures("celery_worker")
def test_the_queue_is_the_regions_own_and_the_proposer_cannot_approve(api, world, console):
    person, _phone = enrolled_person(api, world, 42, "obama.jpg")
    supervisor = api.as_("supervisor_a")
    files = [("photos", ("obama2.jpg", photo_bytes("obama2.jpg"), "image/jpeg"))]
    change = supervisor.post(f"/api/v1/beneficiaries/{person}/photos", files=files).json()["pending_change"]
    page = f"/people/{person}/photo-changes/{change['id']}"

    assert change["id"] in console("supervisor_a2").get("/photo-changes").text
    other_township = console("supervisor_b")
    assert change["id"] not in other_township.get("/photo-changes").text
    assert other_township.get(page).status_code == 404

    proposer = console("supervisor_a")
    refused = proposer.post(f"{page}/approve", {}, token_from=page)
    assert refused.status_code == 403
    assert "这是您本人提出的：须由另一名审核员批准" in refused.text
    assert supervisor.get(f"/api/v1/beneficiaries/{person}/enrolment").json()["pending_change"]["id"] == change["id"]
