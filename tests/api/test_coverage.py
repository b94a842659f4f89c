"""The coverage report on a small township built through the API, with a real check-in by the worker."""

import csv
import io
from datetime import timedelta

import pytest

from tests.conftest import beneficiary_body, office_today
from tests.support.cases import open_test_case
from tests.support.checkins import actions_of, await_verdict, enrolled_person, new_challenge, submit
from tests.support.sessions import genuine_session

SECOND_VILLAGE = "431099001002"


@pytest.mark.usefixtures("celery_worker")
def test_coverage_per_village_and_in_total(app, api, world):
    admin, supervisor = api.as_("admin"), api.as_("supervisor_a")
    assert admin.post("/api/v1/regions", json={"code": SECOND_VILLAGE, "name": "河西村"}).status_code == 201
    # Village A: one person enrolled who checks in (verified), one never enrolled with an open case.
    _enrolled, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    challenge = new_challenge(phone)
    submitted = submit(phone, challenge, genuine_session("obama3.jpg", actions_of(challenge), seed=41))
    assert await_verdict(phone, submitted.json()["id"])["status"] == "verified"
    absent = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 2)).json()["id"]
    open_test_case(app, absent)
    # The second village: one person, suspended today.
    away = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(SECOND_VILLAGE, 3)).json()["id"]
    case_id = open_test_case(app, away)
    proposal = supervisor.post(
        f"/api/v1/cases/{case_id}/decisions",
        json={"decision": "suspend", "reason": "moved away", "effective_on": office_today().isoformat()},
    ).json()
    api.as_("supervisor_a2").post(f"/api/v1/cases/{case_id}/decisions/{proposal['id']}/approve", json={})

    period = {"region": world["township_a"], "from": (office_today() - timedelta(days=30)).isoformat()}
    period["to"] = office_today().isoformat()
    report = supervisor.get("/api/v1/reports/coverage", params=period)
    assert report.status_code == 200, report.text
    figures = ("beneficiaries", "enrolled", "enrolled_pct", "checked_in", "checked_in_pct", "verified")
    more = ("verified_pct", "open_cases", "suspensions", "reinstatements")
    rows = {row["region_code"]: tuple(row[k] for k in figures + more) for row in report.json()["rows"]}
    assert rows == {
        world["village_a"]: (2, 1, "50.0", 1, "50.0", 1, "50.0", 1, 0, 0),
        SECOND_VILLAGE: (1, 0, "0.0", 0, "0.0", 0, "0.0", 0, 1, 0),
    }
    total = report.json()["total"]
    assert tuple(total[k] for k in figures + more) == (3, 1, "33.3", 1, "33.3", 1, "33.3", 1, 1, 0)

    county = admin.get("/api/v1/reports/coverage", params={**period, "region": world["county"]}).json()
    assert [(r["region_code"], r["beneficiaries"]) for r in county["rows"]] == [
        (world["township_a"], 3),
        (world["township_b"], 0),
    ]
    assert county["rows"][1]["enrolled_pct"] is None

    exported = supervisor.get("/api/v1/reports/coverage", params={**period, "format": "csv"})
    assert exported.headers["Content-Type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [line["region_code"] for line in lines] == [world["village_a"], SECOND_VILLAGE, world["township_a"]]
    assert (lines[-1]["beneficiaries"], lines[-1]["verified_pct"]) == ("3", "33.3")

    before = supervisor.get("/api/v1/reports/coverage", params={**period, "from": "2025-01-01", "to": "2025-01-31"})
    assert before.json()["total"]["beneficiaries"] == 0
    backwards = supervisor.get("/api/v1/reports/coverage", params={**period, "from": period["to"], "to": "2025-01-01"})
    assert backwards.json()["errors"] == {"to": ["before_from"]}
    assert supervisor.get("/api/v1/reports/coverage", params={**period, "region": world["county"]}).status_code == 422
