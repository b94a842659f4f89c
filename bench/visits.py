"""Batch-sync ingest throughput for home visits on PostgreSQL, with every fraud signal computed.

Field workers' devices sync their day's visits in batches through the HTTP layer (Flask's WSGI test
client: request parsing, validation, per-item transactions, signals, cases, audit). One visit in
twenty is fabricated (a mock location or a desk far from the home) so flags and cases are written
too. The floor, measured in the same run, is one committed audit entry per visit: the least an
accepted visit costs, since each is committed on its own so a dropped connection loses nothing.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from geographiclib.geodesic import Geodesic

from bench.scratch import scratch_app
from server import db
from server.context import Ctx
from server.models import StaffRole, Visit, VisitFlag
from server.services import auth, beneficiaries, regions, staff
from server.services.audit import Actor, record
from server.services.resident_id import check_character

COUNTY, TOWNSHIP, VILLAGE = "431099", "431099001", "431099001001"
CENTRE = (27.83, 112.92)
WORKERS = 10
PEOPLE = 400
PASSWORD = "bench password for field workers"
CHECKLIST = {
    "present": ["beneficiary"],
    "living_conditions": "basic",
    "household_members_changed": False,
    "income_changed": False,
    "employment_changed": False,
    "vehicle_changed": False,
    "housing_changed": False,
    "health": "good",
}


def _point(origin: tuple[float, float], metres: float, bearing: float) -> tuple[float, float]:
    moved = Geodesic.WGS84.Direct(origin[0], origin[1], bearing, metres)
    return moved["lat2"], moved["lon2"]


def _seed(session, rng: random.Random) -> tuple[list[str], list[tuple[str, tuple[float, float]]]]:
    """A village with field workers and beneficiaries whose homes are spread over a few kilometres."""
    system = Actor(kind="system", id="bench", region_code=COUNTY)
    for code, name in ((COUNTY, "示范县"), (TOWNSHIP, "城关镇"), (VILLAGE, "东门社区")):
        regions.create_region(Ctx.current(), actor=system, code=code, name=name)
        session.flush()
    workers = [f"bench_worker_{i}" for i in range(WORKERS)]
    for username in workers:
        staff.create_staff_user(
            Ctx.current(),
            actor=system,
            username=username,
            password=PASSWORD,
            role=StaffRole.FIELD_WORKER,
            region_code=VILLAGE,
        )
    people = []
    for serial in range(PEOPLE):
        first17 = f"{COUNTY}19450312{serial:03d}"
        home = _point(CENTRE, rng.uniform(0, 4000), rng.uniform(0, 360))
        person = beneficiaries.create_beneficiary(
            Ctx.current(),
            actor=system,
            data={
                "id_number": first17 + check_character(first17),
                "name": f"测试{serial}",
                "program": "rural_minimum_allowance",
                "village_code": VILLAGE,
                "home_lat": home[0],
                "home_lon": home[1],
                "monthly_amount": Decimal("335.00"),
            },
        )
        people.append((str(person.id), home))
    session.commit()
    return workers, people


def _visit(rng: random.Random, person: tuple[str, tuple[float, float]], start: datetime, serial: int) -> dict:
    person_id, home = person
    at, mock = _point(home, rng.uniform(0, 15), rng.uniform(0, 360)), False
    if serial % 20 == 7:
        mock = True
    elif serial % 20 == 13:
        at = _point(home, 2500, rng.uniform(0, 360))
    return {
        "client_id": f"bench-{serial:08d}",
        "beneficiary_id": person_id,
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=20)).isoformat(),
        "gps": [
            {
                "lat": at[0],
                "lon": at[1],
                "accuracy_m": rng.uniform(4, 20),
                "fix_time": (start + timedelta(minutes=1)).isoformat(),
                "provider": "gps",
                "mock_location": mock,
            }
        ],
        "checklist_version": 1,
        "checklist": CHECKLIST,
        "outcome": "confirmed_present",
        "notes": None,
    }


def _floor(app, count: int) -> float:
    """Seconds per committed audit entry: the least durable write an accepted visit needs."""
    with app.app_context():
        session = db.session()
        start = time.perf_counter()
        for i in range(count):
            record(session, actor=Actor.system(), action="bench.floor", object_type="bench", object_id=i)
            session.commit()
        return (time.perf_counter() - start) / count


def run(visits: int = 2000, batch: int = 50, echo: Callable[[str], None] = print) -> dict[str, float]:
    """Sync `visits` visits in batches of `batch` through the HTTP layer on PostgreSQL and print the figures."""
    rng = random.Random(7)
    with scratch_app(os.environ.get("FIELDCHECK_DATABASE_URL", "")) as app:
        with app.app_context():
            session = db.session()
            workers, people = _seed(session, rng)
            tokens = [auth.login(Ctx.current(), username=w, password=PASSWORD).access_token for w in workers]
        # One visit every 40 minutes of device time per worker, to people picked at random, all in the past.
        day = datetime.now(UTC) - timedelta(minutes=40 * (visits // len(workers) + 2))
        batches = []
        per_worker = [[] for _ in workers]
        for serial in range(visits):
            w = serial % len(workers)
            start = day + timedelta(minutes=40 * len(per_worker[w]))
            per_worker[w].append(_visit(rng, rng.choice(people), start, serial))
        for w, items in enumerate(per_worker):
            for i in range(0, len(items), batch):
                batches.append((tokens[w], items[i : i + batch]))
        rng.shuffle(batches)

        client = app.test_client()
        sent_at = datetime.now(UTC).isoformat()
        created = 0
        began = time.perf_counter()
        for token, items in batches:
            response = client.post(
                "/api/v1/visits/sync",
                json={"device_sent_at": sent_at, "visits": items},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            created += response.get_json()["counts"]["created"]
        elapsed = time.perf_counter() - began
        with app.app_context():
            session = db.session()
            stored = session.query(Visit).count()
            flagged = session.query(VisitFlag.visit_id).distinct().count()
        floor = _floor(app, min(visits, 300))
        per_visit = elapsed / visits
        figures = {
            "visits": visits,
            "batch": batch,
            "visits_per_second": visits / elapsed,
            "ms_per_visit": 1000 * per_visit,
            "floor_ms": 1000 * floor,
            "ratio_to_floor": per_visit / floor,
            "flagged_share": flagged / stored if stored else 0.0,
        }
        assert created == stored == visits, (created, stored, visits)
    echo(f"batch sync on PostgreSQL: {visits} visits by {WORKERS} workers in batches of {batch}, one process")
    echo(f"  visits per second: {figures['visits_per_second']:.0f}  ({figures['ms_per_visit']:.1f} ms each)")
    echo(f"  floor (one committed audit entry): {figures['floor_ms']:.2f} ms")
    echo(f"  per visit / floor: {figures['ratio_to_floor']:.1f}")
    echo(f"  flagged: {figures['flagged_share']:.1%} of the visits (1 in 10 fabricated)")
    return figures
