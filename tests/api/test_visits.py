"""Home visits through HTTP: offline sync, edits, fraud signals, findings, assisted check-ins and staff views."""

import json
import socket
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from geographiclib.geodesic import Geodesic
from sqlalchemy import select, text

from server import db
from server.models import AuditEntry
from tests.conftest import Api, beneficiary_body, office_today, wait_for
from tests.support.photos import photo_bytes
from tests.support.sessions import genuine_session

HOME = (27.83, 112.92)  # where beneficiary_body registers everyone's home
CHECKLIST = {
    "present": ["beneficiary"],
    "living_conditions": "basic",
    "household_members_changed": False,
    "income_changed": False,
    "employment_changed": False,
    "vehicle_changed": False,
    "housing_changed": False,
    "health": "chronic_illness",
}


def offset(metres: float, bearing: float = 90.0, origin: tuple[float, float] = HOME) -> tuple[float, float]:
    moved = Geodesic.WGS84.Direct(origin[0], origin[1], bearing, metres)
    return moved["lat2"], moved["lon2"]


def visit_body(
    person: str | None,
    *,
    client_id: str | None = None,
    at: tuple[float, float] = HOME,
    start: datetime | None = None,
    minutes: int = 20,
    accuracy: float = 8.0,
    mock: bool = False,
    outcome: str = "confirmed_present",
    **overrides,
) -> dict:
    start = start or datetime.now(UTC) - timedelta(hours=3)
    body = {
        "client_id": client_id or uuid.uuid4().hex,
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=minutes)).isoformat(),
        "gps": [
            {
                "lat": at[0],
                "lon": at[1],
                "accuracy_m": accuracy,
                "fix_time": (start + timedelta(minutes=1)).isoformat(),
                "provider": "gps",
                "mock_location": mock,
            }
        ],
        "checklist_version": 1,
        "checklist": CHECKLIST,
        "outcome": outcome,
        "notes": "老人在家，精神尚可",
        "device": {"model": "Redmi 9A", "os": "Android 10", "app_version": "1.2.0"},
    }
    if person is not None:
        body["beneficiary_id"] = person
    return body | overrides


def register(api: Api, village: str, serial: int, **overrides) -> str:
    response = api.as_("supervisor_a" if village.startswith("431099001") else "supervisor_b").post(
        "/api/v1/beneficiaries", json=beneficiary_body(village, serial, **overrides)
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def cases(api: Api, kind: str, supervisor: str = "supervisor_a") -> list[dict]:
    return api.as_(supervisor).get("/api/v1/cases", params={"kind": kind}).json()


def all_visits(client: Api, **params) -> list[dict]:
    return client.get("/api/v1/visits", params={"page_size": 100, **params}).json()


# ---------------------------------------------------------------------------------------------
# One visit


def test_a_visit_is_stored_once_and_its_evidence_is_encrypted(app, api, world):
    person = register(api, world["village_a"], 1)
    worker = api.as_("worker_a")
    body = visit_body(person, client_id="visit-0001")
    first = worker.post("/api/v1/visits", json=body)
    assert first.status_code == 201, first.text
    again = worker.post("/api/v1/visits", json=body)
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    visit = first.json()
    assert (visit["outcome"], visit["version"], visit["flags"], visit["region_code"]) == (
        "confirmed_present",
        1,
        [],
        world["village_a"],
    )
    assert visit["gps"][0]["lat"] == HOME[0]
    assert [v["id"] for v in all_visits(worker)] == [visit["id"]]
    # GPS at a home, the checklist's health answers and the notes are ciphertext in the database.
    with app.app_context():
        raw = (
            db.session()
            .execute(text("SELECT gps_fixes, checklist, notes FROM visit WHERE id = :id"), {"id": visit["id"]})
            .one()
        )
    for column, plain in zip(raw, ("27.83", "chronic_illness", "精神尚可"), strict=True):
        assert plain.encode() not in bytes(column)


def test_every_read_of_a_visits_evidence_is_audited(app, api, world):
    person = register(api, world["village_a"], 1)
    recorded = [api.as_("worker_a").post("/api/v1/visits", json=visit_body(person)).json()["id"] for _ in range(2)]
    supervisor = api.as_("supervisor_a")
    assert supervisor.get(f"/api/v1/visits/{recorded[0]}").status_code == 200
    assert len(supervisor.get("/api/v1/visits").json()) == 2
    assert len(supervisor.get(f"/api/v1/beneficiaries/{person}/visits").json()) == 2
    with app.app_context():
        views = db.session().execute(
            select(AuditEntry.actor_id, AuditEntry.object_id, AuditEntry.details)
            .where(AuditEntry.action == "visit.viewed")
            .order_by(AuditEntry.seq)
        )
        seen = [(actor, object_id, sorted(details["visit_ids"])) for actor, object_id, details in views]
    me = supervisor.get("/api/v1/me").json()["id"]
    assert seen == [(me, recorded[0], [recorded[0]]), (me, "list", sorted(recorded)), (me, "list", sorted(recorded))]


def test_bad_visits_get_422_with_reasons_and_store_nothing(api, world):
    person = register(api, world["village_a"], 1)
    worker = api.as_("worker_a")
    unknown_version = worker.post("/api/v1/visits", json=visit_body(person, checklist_version=9))
    assert (unknown_version.status_code, unknown_version.json()["errors"]) == (
        422,
        {"checklist_version": ["unknown_checklist_version"]},
    )
    bad_answers = worker.post(
        "/api/v1/visits", json=visit_body(person, checklist={**CHECKLIST, "health": "fine", "pets": 2})
    )
    assert bad_answers.json()["errors"] == {
        "checklist.health": ["invalid_answer"],
        "checklist.pets": ["unknown_question"],
    }
    backwards = worker.post("/api/v1/visits", json=visit_body(person, minutes=-5))
    assert backwards.json()["errors"] == {"ended_at": ["ends_before_start"]}
    nobody = worker.post("/api/v1/visits", json=visit_body(str(uuid.uuid4())))
    assert (nobody.status_code, nobody.json()["errors"]) == (404, {"beneficiary_id": ["not_in_your_region"]})
    no_fix = worker.post("/api/v1/visits", json=visit_body(person, gps=[]))
    assert no_fix.status_code == 422
    assert all_visits(worker) == []
    # Only field workers record visits.
    assert api.as_("supervisor_a").post("/api/v1/visits", json=visit_body(person)).status_code == 403


def test_edits_carry_their_version_and_a_stale_one_gets_409(api, world):
    person = register(api, world["village_a"], 1)
    worker = api.as_("worker_a")
    visit = worker.post("/api/v1/visits", json=visit_body(person)).json()
    edit = {"based_on_version": 1, "notes": "补充：儿子外出务工", "checklist_version": 1, "checklist": CHECKLIST}
    updated = worker.patch(f"/api/v1/visits/{visit['id']}", json=edit)
    assert (updated.status_code, updated.json()["version"], updated.json()["notes"]) == (200, 2, edit["notes"])
    # The same edit retried after a dropped connection is recognised and changes nothing.
    retried = worker.patch(f"/api/v1/visits/{visit['id']}", json=edit)
    assert (retried.status_code, retried.json()["version"]) == (200, 2)
    # A different edit made on the old copy is stale.
    stale = worker.patch(f"/api/v1/visits/{visit['id']}", json={"based_on_version": 1, "outcome": "absent"})
    assert (stale.status_code, stale.json()["errors"]) == (409, {"based_on_version": ["stale_version"]})
    assert worker.get(f"/api/v1/visits/{visit['id']}").json()["outcome"] == "confirmed_present"


# ---------------------------------------------------------------------------------------------
# Batch sync


def _sync(client: Api, visits: list[dict], **body) -> dict:
    response = client.post("/api/v1/visits/sync", json={"visits": visits, **body})
    assert response.status_code == 200, response.text
    return response.json()


def _send_and_drop(client: Api, path: str, body: bytes, *, send: int) -> None:
    """Send the request's first `send` body bytes and hang up without reading an answer."""
    url = urlparse(client.base_url)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Authorization: {client.http.headers['Authorization']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(head.encode() + body[:send])


def test_an_offline_batch_with_duplicates_a_stale_edit_and_a_bad_item(api, world):
    people = [register(api, world["village_a"], serial) for serial in (1, 2, 3)]
    worker = api.as_("worker_a")
    start = datetime.now(UTC) - timedelta(hours=8)
    synced_before = visit_body(people[0], client_id="offline-0001", start=start)
    first = _sync(worker, [synced_before])["results"][0]
    assert first["status"] == "created"
    # Edited twice on the server's side since: the device's copy of version 1 is stale.
    worker.patch(f"/api/v1/visits/{first['visit_id']}", json={"based_on_version": 1, "notes": "a"})

    new = visit_body(people[1], client_id="offline-0002", start=start + timedelta(hours=1))
    bad = visit_body(people[2], client_id="offline-0003", start=start + timedelta(hours=2))
    del bad["gps"][0]["lat"]
    batch = [
        synced_before,
        new,
        new,
        bad,
        {"client_id": "offline-0001", "based_on_version": 1, "outcome": "absent"},
        "not a visit",
        visit_body(people[2], client_id="offline-0004", start=start + timedelta(hours=3)),
    ]
    result = _sync(worker, batch)
    statuses = [(r["status"], r["http_status"]) for r in result["results"]]
    assert statuses == [
        ("duplicate", 200),
        ("created", 201),
        ("duplicate", 200),
        ("rejected", 422),
        ("rejected", 409),
        ("rejected", 422),
        ("created", 201),
    ]
    results = result["results"]
    assert results[0]["visit_id"] == first["visit_id"]
    assert results[1]["visit_id"] == results[2]["visit_id"]
    assert results[3]["errors"] == {"gps.0.lat": ["required"]}
    assert results[4]["errors"] == {"based_on_version": ["stale_version"]}
    assert result["counts"] == {"created": 2, "duplicate": 2, "updated": 0, "rejected": 3}
    assert len(all_visits(worker)) == 3

    # The device fixes its edit on the current version, and the bad item, and sends again: same answers for the rest.
    batch[3] = visit_body(people[2], client_id="offline-0003", start=start + timedelta(hours=2))
    batch[4] = {"client_id": "offline-0001", "based_on_version": 2, "outcome": "absent"}
    del batch[5]
    again = _sync(worker, batch)["results"]
    assert [r["status"] for r in again] == ["duplicate", "duplicate", "duplicate", "created", "updated", "duplicate"]
    assert [r["visit_id"] for r in again[:3]] == [first["visit_id"], results[1]["visit_id"], results[1]["visit_id"]]
    assert again[4]["version"] == 3
    assert again[5]["visit_id"] == results[6]["visit_id"]


def test_a_dropped_connection_loses_nothing_and_a_retry_gives_the_same_visits(api, world):
    people = [register(api, world["village_a"], serial) for serial in range(1, 6)]
    worker = api.as_("worker_a")
    start = datetime.now(UTC) - timedelta(hours=8)
    batch = [visit_body(p, start=start + timedelta(minutes=40 * i)) for i, p in enumerate(people)]
    body = json.dumps({"visits": batch}).encode()

    # The line drops while the body is still uploading: nothing was accepted, nothing is stored.
    _send_and_drop(worker, "/api/v1/visits/sync", body, send=len(body) // 2)
    # The whole request arrives, then the line drops before the answer: the server finishes the work.
    _send_and_drop(worker, "/api/v1/visits/sync", body, send=len(body))
    retry = _sync(worker, batch)["results"]
    assert {r["status"] for r in retry} <= {"created", "duplicate"}
    stored = wait_for(lambda: (v := all_visits(worker)) and len(v) == 5 and v)
    assert sorted(v["id"] for v in stored) == sorted(r["visit_id"] for r in retry)
    # Once both have finished, every further retry answers the same visits as duplicates.
    final = _sync(worker, batch)["results"]
    assert [(r["status"], r["visit_id"]) for r in final] == [("duplicate", r["visit_id"]) for r in retry]
    assert len(all_visits(worker)) == 5


def test_a_batch_over_the_limit_is_refused_whole(api, world):
    person = register(api, world["village_a"], 1)
    worker = api.as_("worker_a")
    response = worker.post("/api/v1/visits/sync", json={"visits": [visit_body(person) for _ in range(101)]})
    assert (response.status_code, response.json()["errors"]) == (413, {"visits": ["batch_too_large"]})
    assert all_visits(worker) == []


# ---------------------------------------------------------------------------------------------
# Fraud and location signals


def _flags(visit: dict) -> list[str]:
    return sorted(f["code"] for f in visit["flags"])


def test_an_honest_round_of_visits_raises_no_flag_and_opens_no_case(api, world):
    homes = [HOME, offset(800), offset(1600), offset(6, bearing=0, origin=offset(1600))]
    people = [
        register(api, world["village_a"], i + 1, home_lat=home[0], home_lon=home[1]) for i, home in enumerate(homes)
    ]
    worker = api.as_("worker_a")
    start = datetime.now(UTC) - timedelta(hours=6)
    batch = [
        visit_body(person, at=offset(10, origin=home), start=start + timedelta(minutes=30 * i), minutes=20)
        for i, (person, home) in enumerate(zip(people, homes, strict=True))
    ]
    results = _sync(worker, batch, device_sent_at=datetime.now(UTC).isoformat())["results"]
    assert [(r["status"], r["flags"]) for r in results] == [("created", [])] * 4
    assert cases(api, "location_anomaly") == []


SINGLE_VISIT_FRAUD = {
    "far_from_home": {"at": offset(2500)},
    "poor_accuracy": {"accuracy": 400.0},
    "mock_location": {"mock": True},
    "clock_skew": {"device_sent_at": (datetime.now(UTC) - timedelta(hours=3)).isoformat()},
}


@pytest.mark.parametrize("flag", SINGLE_VISIT_FRAUD)
def test_each_single_visit_signal_fires_and_opens_a_location_case(api, world, flag):
    person = register(api, world["village_a"], 1)
    worker = api.as_("worker_a")
    visit = worker.post("/api/v1/visits", json=visit_body(person, **SINGLE_VISIT_FRAUD[flag])).json()
    assert _flags(visit) == [flag]
    [case] = cases(api, "location_anomaly")
    assert (case["beneficiary_id"], case["details"]["visit_id"]) == (person, visit["id"])
    assert [v["id"] for v in all_visits(api.as_("supervisor_a"), flag=flag)] == [visit["id"]]


def test_impossible_travel_flags_both_visits_whichever_arrives_first(api, world):
    far_home = offset(50_000, bearing=0)
    near = register(api, world["village_a"], 1)
    far = register(api, world["village_a"], 2, home_lat=far_home[0], home_lon=far_home[1])
    worker = api.as_("worker_a")
    start = datetime.now(UTC) - timedelta(hours=6)
    # The later visit syncs first; 50 km between them with 10 minutes to spare.
    later = worker.post("/api/v1/visits", json=visit_body(far, at=far_home, start=start + timedelta(minutes=30))).json()
    assert _flags(later) == []
    earlier = worker.post("/api/v1/visits", json=visit_body(near, start=start, minutes=20)).json()
    assert _flags(earlier) == ["impossible_travel"]
    assert _flags(worker.get(f"/api/v1/visits/{later['id']}").json()) == ["impossible_travel"]
    assert {c["details"]["visit_id"] for c in cases(api, "location_anomaly")} == {earlier["id"], later["id"]}


def test_households_visited_from_one_desk_form_a_cluster(api, world):
    homes = [offset(600 * (i + 1), bearing=0) for i in range(3)]
    people = [
        register(api, world["village_a"], i + 1, home_lat=h[0], home_lon=h[1], household_code=f"H{i}")
        for i, h in enumerate(homes)
    ]
    worker = api.as_("worker_a")
    start = datetime.now(UTC) - timedelta(hours=6)
    desk = offset(5)
    batch = [visit_body(p, at=desk, start=start + timedelta(minutes=8 * i), minutes=5) for i, p in enumerate(people)]
    results = _sync(worker, batch)["results"]
    # The first two are flagged too once the third completes the cluster.
    assert [r["flags"] for r in results] == [["desk_cluster", "far_from_home"]] * 3
    assert [len(c["details"]["visit_ids"]) for c in _cluster_flags(all_visits(worker))] == [2]


def _cluster_flags(visits: list[dict]) -> list[dict]:
    return [f for v in visits for f in v["flags"] if f["code"] == "desk_cluster" and "visit_ids" in f["details"]]


def test_a_visit_outside_the_workers_region_is_kept_for_review_but_shows_nothing(api, world):
    elsewhere = register(api, world["village_b"], 1)
    worker = api.as_("worker_a")
    body = visit_body(elsewhere)
    response = worker.post("/api/v1/visits", json=body)
    # The same answer as for someone who does not exist: the worker learns nothing about other regions.
    assert (response.status_code, response.json()["errors"]) == (404, {"beneficiary_id": ["not_in_your_region"]})
    assert worker.post("/api/v1/visits", json=body).json()["errors"] == {"beneficiary_id": ["not_in_your_region"]}
    assert all_visits(worker) == []
    # The person's own supervisors get a case; the worker's supervisors see the flag on their team's visit.
    [case] = cases(api, "location_anomaly", "supervisor_b")
    assert case["beneficiary_id"] == elsewhere
    [visit] = all_visits(api.as_("supervisor_a"), flag="outside_region")
    assert visit["id"] == case["details"]["visit_id"]


# ---------------------------------------------------------------------------------------------
# Outcomes


def test_a_deceased_visit_opens_a_case_proposing_termination(api, world):
    person = register(api, world["village_a"], 1)
    visit = api.as_("worker_a").post("/api/v1/visits", json=visit_body(person, outcome="deceased")).json()
    [case] = cases(api, "visit_finding")
    assert (case["beneficiary_id"], case["state"]) == (person, "open")
    assert case["details"]["visit_id"] == visit["id"]
    assert (case["details"]["finding"], case["details"]["proposed_action"]) == ("deceased", "terminate")


def test_absent_twice_in_a_cycle_or_moved_away_opens_a_case(api, world):
    absent = register(api, world["village_a"], 1)
    moved = register(api, world["village_a"], 2)
    worker = api.as_("worker_a")
    start = datetime.now(UTC) - timedelta(hours=30)
    worker.post("/api/v1/visits", json=visit_body(absent, outcome="absent", start=start))
    assert cases(api, "visit_finding") == []
    worker.post("/api/v1/visits", json=visit_body(absent, outcome="absent", start=start + timedelta(hours=24)))
    worker.post("/api/v1/visits", json=visit_body(moved, outcome="moved_away", start=start + timedelta(hours=25)))
    found = {c["beneficiary_id"]: c["details"] for c in cases(api, "visit_finding")}
    assert found.keys() == {absent, moved}
    assert len(found[absent]["absent_visit_ids"]) == 2
    assert found[moved]["finding"] == "moved_away"


def test_a_household_visit_concerns_every_member(api, world):
    members = [register(api, world["village_a"], i, household_code="HH-7") for i in (1, 2)]
    worker = api.as_("worker_a")
    body = visit_body(None, household_code="HH-7", outcome="moved_away")
    visit = worker.post("/api/v1/visits", json=body).json()
    assert (visit["beneficiary_id"], visit["household_code"]) == (None, "HH-7")
    assert sorted(c["beneficiary_id"] for c in cases(api, "visit_finding")) == sorted(members)
    history = api.as_("supervisor_a").get(f"/api/v1/beneficiaries/{members[1]}/visits").json()
    assert [v["id"] for v in history] == [visit["id"]]
    # A death concerns one named person, never a household.
    death = worker.post("/api/v1/visits", json=visit_body(None, household_code="HH-7", outcome="deceased"))
    assert death.json()["errors"] == {"outcome": ["needs_beneficiary_id"]}


# ---------------------------------------------------------------------------------------------
# Assisted check-in during a visit


def _enrol(api: Api, person: str) -> None:
    supervisor = api.as_("supervisor_a")
    files = [("photos", (n, photo_bytes(n), "image/jpeg")) for n in ("obama.jpg", "obama2.jpg")]
    assert supervisor.post(f"/api/v1/beneficiaries/{person}/photos", files=files).status_code == 202
    wait_for(lambda: supervisor.get(f"/api/v1/beneficiaries/{person}/enrolment").json()["state"] == "enrolled")


@pytest.mark.usefixtures("celery_worker")
def test_an_assisted_check_in_during_a_visit_is_the_cycles_proof_of_life(api, world):
    person = register(api, world["village_a"], 1)
    _enrol(api, person)
    worker = api.as_("worker_a")
    supervisor = api.as_("supervisor_a")
    visit = worker.post("/api/v1/visits", json=visit_body(person, start=datetime.now(UTC) - timedelta(minutes=30)))
    visit = visit.json()
    today = office_today()
    quarter = {"region_code": world["village_a"], "opens_on": (today - timedelta(days=10)).isoformat()}
    quarter["deadline"] = (today + timedelta(days=60)).isoformat()
    cycle = supervisor.post("/api/v1/cycles", json=quarter)
    assert cycle.status_code == 201, cycle.text

    def this_cycle() -> dict:
        [status] = supervisor.get(f"/api/v1/beneficiaries/{person}/cycles").json()
        return status

    assert (this_cycle()["satisfied"], this_cycle()["satisfied_by"]) == (False, [])

    challenge = worker.post("/api/v1/checkin-challenges", json={"beneficiary_id": person, "visit_id": visit["id"]})
    assert challenge.status_code == 201, challenge.text
    challenge = challenge.json()
    assert (challenge["mode"], challenge["visit_id"]) == ("assisted_staff", visit["id"])
    actions = [a["action"] for a in challenge["actions"]]
    frames = genuine_session("obama3.jpg", actions, seed=21, light=challenge["light"])
    begin = datetime.now(UTC)
    metadata = {
        "challenge_id": challenge["id"],
        "client_id": uuid.uuid4().hex,
        "frames": [
            {
                "captured_at": (begin + timedelta(seconds=f.captured_at)).isoformat(),
                "action": f.action,
                "colour": f.colour,
            }
            for f in frames
        ],
        "device": {"model": "Redmi 9A"},
    }
    files = [("frames", (f"{i}.jpg", f.jpeg, "image/jpeg")) for i, f in enumerate(frames)]
    submitted = worker.post("/api/v1/checkins", data={"metadata": json.dumps(metadata)}, files=files)
    assert submitted.status_code == 202, submitted.text
    checkin_id = submitted.json()["id"]
    wait_for(lambda: worker.get(f"/api/v1/checkins/{checkin_id}").json()["status"] != "pending", timeout=120)

    shown = worker.get(f"/api/v1/visits/{visit['id']}").json()
    assert [(c["id"], c["state"]) for c in shown["checkins"]] == [(checkin_id, "verified")]
    assert shown["proof_of_life"] is True
    assert (this_cycle()["satisfied"], this_cycle()["satisfied_by"]) == (True, ["visit"])
    assert supervisor.get(f"/api/v1/checkins/{checkin_id}/details").json()["visit_id"] == visit["id"]


def test_a_challenge_names_only_the_workers_own_visit_to_that_person(api, world):
    person = register(api, world["village_a"], 1)
    other = register(api, world["village_a"], 2)
    worker = api.as_("worker_a")
    visit = worker.post("/api/v1/visits", json=visit_body(other)).json()
    response = worker.post("/api/v1/checkin-challenges", json={"beneficiary_id": person, "visit_id": visit["id"]})
    assert (response.status_code, response.json()["errors"]) == (404, {"visit_id": ["visit_not_found"]})


# ---------------------------------------------------------------------------------------------
# Photos and staff views


def test_visit_photos_are_encrypted_deduplicated_and_their_views_audited(app, api, world):
    person = register(api, world["village_a"], 1)
    worker = api.as_("worker_a")
    visit = worker.post("/api/v1/visits", json=visit_body(person)).json()
    path = f"/api/v1/visits/{visit['id']}/photos"
    bad = worker.post(
        path,
        files=[
            ("photos", ("a.jpg", photo_bytes("biden.jpg"), "image/jpeg")),
            ("photos", ("b.jpg", b"nope", "image/jpeg")),
        ],
    )
    assert (bad.status_code, bad.json()["errors"]) == (422, {"photos.1": ["not_an_image"]})
    good = [("photos", ("a.jpg", photo_bytes("biden.jpg"), "image/jpeg"))]
    created = worker.post(path, files=good)
    stored = created.json()
    assert created.status_code == 201
    assert created.headers["Location"].endswith(f"{path}/{stored[0]['id']}/image")
    again = worker.post(path, files=good)
    assert (again.status_code, again.json()) == (200, stored)
    assert "Location" not in again.headers
    assert len(stored) == 1

    # This visit's folder only: the instance's object store outlives each test's database.
    folder = Path(app.config["FIELDCHECK"].instance_path) / "objects" / "visits" / visit["id"]
    objects = [p for p in folder.rglob("*") if p.is_file()]
    assert len(objects) == 1
    assert objects[0].read_bytes()[:3] != photo_bytes("biden.jpg")[:3]

    supervisor = api.as_("supervisor_a")
    image_path = f"{path}/{stored[0]['id']}/image"
    assert supervisor.get(image_path).status_code == 422
    image = supervisor.get(image_path, params={"reason": "checking a flagged visit"})
    assert image.content == photo_bytes("biden.jpg")
    assert worker.get(image_path, params={"reason": "curious"}).status_code == 403
    with app.app_context():
        viewed = db.session().scalars(select(AuditEntry).where(AuditEntry.action == "biometric.viewed")).all()
    assert [(e.object_id, e.reason) for e in viewed] == [(stored[0]["id"], "checking a flagged visit")]


def test_supervisors_filter_visits_and_see_their_teams_flag_rates(api, world):
    people = [register(api, world["village_a"], i) for i in (1, 2, 3)]
    worker = api.as_("worker_a")
    start = datetime.now(UTC) - timedelta(days=1)
    honest = [visit_body(p, start=start + timedelta(hours=i)) for i, p in enumerate(people[:2])]
    mocked = visit_body(people[2], start=start + timedelta(hours=2), mock=True, outcome="absent")
    _sync(worker, [*honest, mocked])
    supervisor = api.as_("supervisor_a")

    assert len(all_visits(supervisor)) == 3
    assert [v["beneficiary_id"] for v in all_visits(supervisor, outcome="absent")] == [people[2]]
    assert [v["beneficiary_id"] for v in all_visits(supervisor, flagged="true")] == [people[2]]
    window = {
        "started_from": (start + timedelta(minutes=30)).isoformat(),
        "started_to": (start + timedelta(hours=3)).isoformat(),
    }
    assert len(all_visits(supervisor, **window)) == 2
    assert all_visits(api.as_("supervisor_b")) == []
    first = supervisor.get("/api/v1/visits", params={"page_size": 2, "page": 1})
    assert json.loads(first.headers["X-Pagination"])["total"] == 3

    history = supervisor.get(f"/api/v1/beneficiaries/{people[0]}/visits").json()
    assert [v["beneficiary_id"] for v in history] == [people[0]]

    [stats] = supervisor.get("/api/v1/visits/team-stats", params=window).json()
    assert (stats["username"], stats["visits"], stats["flagged"], stats["by_flag"]) == (
        "worker_a",
        2,
        1,
        {"mock_location": 1},
    )
    assert stats["flag_rate"] == 0.5
    assert [s["visits"] for s in api.as_("supervisor_b").get("/api/v1/visits/team-stats").json()] == []
