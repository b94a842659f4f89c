"""The console's pages at county scale, on a scratch PostgreSQL database.

Seeds one county the way `bench sweep` does (10 townships, 1,000 villages) with N beneficiaries, runs
the sweep so about 70% of them get a missed_checkin case (150,000 people: 105,000 cases), signs in an
admin of the county through the login form, and requests each page R times in this process (Flask's
test client: the server's own time, no network), printing p50 and p95 per page. The target is
p95 < 300 ms. The database is dropped at the end.
"""

from __future__ import annotations

import re
import secrets
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, text

from bench.scratch import scratch_app
from bench.sweep import COUNTY, SEED
from server import db
from server.context import Ctx
from server.models import Cycle, CycleFrequency, ReviewCase, StaffRole
from server.services import cycles, staff
from server.services.audit import Actor
from server.services.sweep import sweep

PASSWORD = secrets.token_urlsafe(16)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
TARGET_MS = 300


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def seed_county(app, count: int) -> dict[str, str]:
    """The county, its people and their cases; returns ids the pages need."""
    settings = app.config["FIELDCHECK"]
    zone = cycles.office_zone(settings)
    today = cycles.local_today(zone)
    opens_on, deadline = today - timedelta(days=120), today - timedelta(days=30)
    params = {
        "n": count,
        "staff": uuid.uuid4(),
        "enrolled": opens_on - timedelta(days=1),
        "at": opens_on + timedelta(days=10),
        "opens_on": opens_on,
        "deadline": deadline,
    }
    context = Ctx.current()
    session = context.session
    with db.unit_of_work(session):
        for statement in SEED:
            session.execute(text(statement), params)
        # One real ciphertext for every row (the context is the column, not the row): pages load these rows.
        ciphertext = context.cipher.encrypt(b"430199194503120011", context="beneficiary.id_number")
        session.execute(text("UPDATE beneficiary SET id_number = :c"), {"c": ciphertext})
        cycle = Cycle(
            region_code=COUNTY,
            program=None,
            frequency=CycleFrequency.QUARTERLY,
            opens_on=opens_on,
            deadline=deadline,
            grace_days=15,
        )
        session.add(cycle)
    with db.unit_of_work(session):
        sweep(context, today=today, zone=zone)
        staff.create_staff_user(
            context,
            actor=Actor.system(),
            username="bench-admin",
            password=PASSWORD,
            role=StaffRole.ADMIN,
            region_code=COUNTY,
        )
    session.execute(text("ANALYZE"))
    case_id = session.scalar(select(ReviewCase.id).order_by(ReviewCase.due_on, ReviewCase.id).limit(1))
    person_id = session.scalar(select(ReviewCase.beneficiary_id).where(ReviewCase.id == case_id))
    cases = session.scalar(text("SELECT count(*) FROM review_case"))
    return {"case": str(case_id), "person": str(person_id), "cycle": str(cycle.id), "cases": cases}


def run(count: int, repeats: int, database_url: str, echo: Callable[[str], None] = print) -> dict[str, float]:
    with scratch_app(database_url) as app:
        with app.app_context():
            start = time.perf_counter()
            ids = seed_county(app, count)
            echo(f"seeded {count:,} beneficiaries and {ids['cases']:,} cases in {time.perf_counter() - start:.1f} s")
        client = app.test_client()
        token = TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
        client.post("/login", data={"csrf_token": token, "username": "bench-admin", "password": PASSWORD})
        pages = {
            "overview": "/",
            "queue": "/cases",
            "queue, one kind, page 100": "/cases?kind=missed_checkin&page=100",
            "queue, one township": f"/cases?region={COUNTY}005",
            "case": f"/cases/{ids['case']}",
            "registry": "/people",
            "registry, by name": "/people?name=bench&page=50",
            "person": f"/people/{ids['person']}",
            "suspensions": "/suspensions",
            "check-ins in review": "/checkins",
            "cycles": "/cycles",
            "one cycle's status counts": f"/cycles/{ids['cycle']}",
            "payment runs": "/payment-runs",
            "visits": "/visits",
        }
        figures = {}
        echo(f"{'page':<28} {'p50 ms':>8} {'p95 ms':>8}")
        for label, path in pages.items():
            samples = []
            for _ in range(repeats):
                began = time.perf_counter()
                response = client.get(path)
                samples.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            p95 = _percentile(samples, 0.95)
            figures[label] = p95
            flag = "" if p95 < TARGET_MS else f"  over {TARGET_MS} ms"
            echo(f"{label:<28} {statistics.median(samples):>8.1f} {p95:>8.1f}{flag}")
        return figures
