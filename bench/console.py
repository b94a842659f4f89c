"""The console's pages at county scale, on a scratch PostgreSQL database.

Seeds one county the way `bench sweep` does (10 townships, 1,000 villages) with N beneficiaries, runs
the sweep so about 70% of them get a missed_checkin case (150,000 people: 105,000 cases) and two
reminder steps each, gives the 20% who checked in a phone, vacuums and analyses, signs in an
admin of the county through the login form, and requests each page R times in this process (Flask's
test client: the server's own time, no network), printing p50 and p95 per page. The target is
p95 < 300 ms. The database is dropped at the end, unless --keep names one: then the first run seeds it and
leaves it, and later runs reuse it (migrated to head first), so a change can be timed without seeding again.
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
from bench.sweep import CHECKED_IN, COUNTY, EXEMPTED, SEED
from server import db
from server.context import Ctx
from server.models import Cycle, CycleFrequency, ReviewCase, StaffRole, StaffUser
from server.services import cycles, staff
from server.services.audit import Actor
from server.services.sweep import sweep

PASSWORD = secrets.token_urlsafe(16)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
TARGET_MS = 300


REMINDERS_AND_PHONES = (
    f"""INSERT INTO notification (id, beneficiary_id, cycle_id, step, channel, state, attempts, sent_at, created_at,
                                  updated_at)
        SELECT gen_random_uuid(), b.id, :cycle, s.step, 'sms',
               CASE WHEN b.id_number_index::bigint % 20 = 3 THEN 'failed' ELSE 'sent' END, 1, :at, :at, :at
        FROM beneficiary b, (VALUES ('due_14'), ('due_7')) AS s (step)
        WHERE b.id_number_index::bigint % 10 NOT IN {CHECKED_IN}
          AND b.id_number_index::bigint % 10 NOT IN {EXEMPTED}""",
    """INSERT INTO device (id, beneficiary_id, issued_by, activation_expires_at, activated_at, label, created_at,
                           updated_at)
       SELECT gen_random_uuid(), beneficiary_id, :staff, :at, :at, 'bench', :at, :at FROM checkin""",
)


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
        # Those without proof got two reminder steps (one in twenty failed), and everyone who checked in has a phone.
        session.execute(text(REMINDERS_AND_PHONES[0]), {"cycle": cycle.id, **params})
        session.execute(text(REMINDERS_AND_PHONES[1]), params)
        staff.create_staff_user(
            context,
            actor=Actor.system(),
            username="bench-admin",
            password=PASSWORD,
            role=StaffRole.ADMIN,
            region_code=COUNTY,
        )
    # Committed (an ANALYZE inside a transaction that is rolled back is lost), and with VACUUM, as autovacuum
    # would have done by the time anyone reads the pages: index-only scans need the visibility map.
    with db.engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return county_ids()


def county_ids() -> dict[str, str]:
    """The ids the pages need, from a seeded county."""
    session = Ctx.current().session
    case_id = session.scalar(select(ReviewCase.id).order_by(ReviewCase.due_on, ReviewCase.id).limit(1))
    person_id = session.scalar(select(ReviewCase.beneficiary_id).where(ReviewCase.id == case_id))
    cases = session.scalar(text("SELECT count(*) FROM review_case"))
    checked_in = session.scalar(text("SELECT beneficiary_id FROM device LIMIT 1"))
    cycle = session.scalar(select(Cycle.id).limit(1))
    return {
        "case": str(case_id),
        "person": str(person_id),
        "cycle": str(cycle),
        "cases": cases,
        "checked_in": str(checked_in),
    }


def reuse_county(app) -> dict[str, str]:
    """A county a first run kept: a fresh password for its admin, then the ids."""
    context = Ctx.current()
    with db.unit_of_work(context.session):
        admin = context.session.scalar(select(StaffUser).where(StaffUser.username == "bench-admin"))
        staff.reset_password(context, actor=Actor.system(), user=admin, password=PASSWORD, reason="bench")
    return county_ids()


def run(
    count: int,
    repeats: int,
    database_url: str,
    echo: Callable[[str], None] = print,
    keep: str | None = None,
    only: tuple[str, ...] = (),
) -> dict[str, float]:
    """Seed (or, with `keep`, reuse a county seeded before), then time each page, or those whose label has `only`."""
    with scratch_app(database_url, keep=keep) as app:
        with app.app_context():
            seeded = db.session().scalar(select(StaffUser.id).where(StaffUser.username == "bench-admin"))
            if seeded:
                ids = reuse_county(app)
                echo(f"reusing {keep}: {ids['cases']:,} cases")
            else:
                start = time.perf_counter()
                ids = seed_county(app, count)
                took = time.perf_counter() - start
                echo(f"seeded {count:,} beneficiaries and {ids['cases']:,} cases in {took:.1f} s")
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
            "registry, not enrolled": "/people?enrolment=not_enrolled&page=20",
            "imports": "/imports",
            "admin: phones": "/admin/devices",
            "admin: one person's phones": f"/admin/devices?beneficiary={ids['checked_in']}",
            "admin: staff accounts": "/admin/staff",
        }
        figures = {}
        echo(f"{'page':<28} {'p50 ms':>8} {'p95 ms':>8}")
        for label, path in pages.items():
            if only and not any(part in label for part in only):
                continue
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
