"""The roster a field worker's phone downloads for a round offline: their region only, audited."""

from sqlalchemy import select

from server import db
from server.models import AuditEntry
from tests.conftest import beneficiary_body, wait_for
from tests.support.photos import photo_bytes


def test_the_roster_lists_the_workers_region_with_home_enrolment_and_standing(app, api, world, celery_worker):
    supervisor = api.as_("supervisor_a")
    mine = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1)).json()["id"]
    enrolled = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 2)).json()["id"]
    files = [("photos", ("obama.jpg", photo_bytes("obama.jpg"), "image/jpeg"))]
    assert supervisor.post(f"/api/v1/beneficiaries/{enrolled}/photos", files=files).status_code == 202
    wait_for(lambda: supervisor.get(f"/api/v1/beneficiaries/{enrolled}/enrolment").json()["state"] == "enrolled")
    api.as_("supervisor_b").post("/api/v1/beneficiaries", json=beneficiary_body(world["village_b"], 3))

    response = api.as_("worker_a").get("/api/v1/visits/roster")

    assert response.status_code == 200, response.text
    rows = {row["id"]: row for row in response.json()}
    assert set(rows) == {mine, enrolled}
    assert rows[mine]["enrolment"] == "not_enrolled" and rows[enrolled]["enrolment"] == "enrolled"
    row = rows[mine]
    assert (row["home_lat"], row["home_lon"]) == (27.83, 112.92)
    assert row["id_number_masked"].count("*") >= 8 and row["standing"] == "due" and row["due_by"]
    assert "phone" not in row and "monthly_amount" not in row
    with app.app_context():
        actions = db.session().scalars(select(AuditEntry.action)).all()
    assert "visit_roster.downloaded" in actions
    assert supervisor.get("/api/v1/visits/roster").status_code == 403
