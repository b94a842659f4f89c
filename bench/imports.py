"""Roster import throughput as a job on PostgreSQL, beside a bare executemany INSERT of the same rows.

The job path is what the worker runs for `POST /beneficiaries/import`: the encrypted upload read
back, every row validated (schema, resident-ID check digit), identity fields encrypted and indexed,
existing people looked up, new ones inserted in batches committed with the job's progress, audited.
The floor is psycopg's executemany of the same rows' plain values into a table without indexes:
what writing the rows costs at all, before any of the checks.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date, timedelta

import psycopg
from sqlalchemy import select

from bench.scratch import scratch_app
from server import db
from server.context import Ctx
from server.models import Beneficiary, StaffRole, StaffUser
from server.services import imports, jobs, regions, staff
from server.services.audit import Actor
from server.services.auth import staff_actor
from server.services.resident_id import check_character

COUNTY, TOWNSHIP = "431099", "431099001"
VILLAGES = tuple(f"{TOWNSHIP}{n:03d}" for n in range(1, 21))
HEADER = "id_number,name,program,village_code,monthly_amount,household_code,phone"


def roster_rows(count: int, county: str = COUNTY, villages: tuple[str, ...] = VILLAGES) -> list[list[str]]:
    """`count` distinct, valid roster rows (one person per birth date and serial) spread over the villages."""
    rows = []
    born = date(1930, 1, 1)
    for n in range(count):
        day, serial = divmod(n, 999)
        first17 = f"{county}{(born + timedelta(days=day)):%Y%m%d}{serial + 1:03d}"
        village = villages[n % len(villages)]
        phone = f"138{n:08d}"
        rows.append(
            [
                first17 + check_character(first17),
                f"村民{n}",
                "rural_minimum_allowance",
                village,
                "335.00",
                f"HH{n}",
                phone,
            ]
        )
    return rows


def roster_csv(rows: list[list[str]]) -> bytes:
    return ("\n".join([HEADER, *(",".join(r) for r in rows)]) + "\n").encode()


def _seed(ctx: Ctx) -> None:
    system = Actor(kind="system", id="bench", region_code=COUNTY)
    with db.unit_of_work(ctx.session):
        for code in (COUNTY, TOWNSHIP, *VILLAGES):
            regions.create_region(ctx, actor=system, code=code, name=f"区划{code}")
            ctx.session.flush()
        staff.create_staff_user(
            ctx,
            actor=system,
            username="bench_admin",
            password="bench password 123",
            role=StaffRole.ADMIN,
            region_code=COUNTY,
        )


def _floor(url: str, rows: list[list[str]]) -> float:
    """Seconds for executemany INSERT of the rows into an unindexed table, committed."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        conn.execute(
            "CREATE TABLE bench_floor (id_number text, name text, program text, village_code text,"
            " monthly_amount numeric(10,2), household_code text, phone text)"
        )
        conn.commit()
        began = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO bench_floor VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)
        conn.commit()
        return time.perf_counter() - began


def run(count: int = 150_000, echo: Callable[[str], None] = print) -> dict[str, float]:
    """Import `count` roster rows as one job on a scratch PostgreSQL database and print rows per second."""
    rows = roster_rows(count)
    data = roster_csv(rows)
    with scratch_app(os.environ.get("FIELDCHECK_DATABASE_URL", "")) as app:
        with app.app_context():
            ctx = Ctx.current()
            session = ctx.session
            _seed(ctx)
            admin = staff_actor(session.scalar(select(StaffUser).where(StaffUser.username == "bench_admin")))
            began = time.perf_counter()
            with db.unit_of_work(session):
                job = jobs.create_job(ctx, actor=admin, kinds=imports.KINDS, kind=imports.ROSTER, data=data, params={})
            outcome = jobs.run_job(ctx, job_id=job.id, kinds=imports.KINDS, actor_of=staff_actor)
            elapsed = time.perf_counter() - began
            assert outcome == "done", outcome
            stored = session.query(Beneficiary).count()
            assert stored == count, (stored, count)
        floor = _floor(app.config["FIELDCHECK"].database_url, rows)
    figures = {
        "rows": count,
        "rows_per_second": count / elapsed,
        "seconds": elapsed,
        "floor_rows_per_second": count / floor,
        "ratio_to_floor": elapsed / floor,
    }
    echo(f"roster import as a job on PostgreSQL: {count} rows, one process")
    echo(f"  rows per second: {figures['rows_per_second']:.0f}  ({elapsed:.1f} s)")
    echo(f"  floor (bare executemany INSERT of the same rows): {figures['floor_rows_per_second']:.0f} rows/s")
    echo(f"  job / floor: {figures['ratio_to_floor']:.1f}")
    echo(f"  150,000 rows at this rate: {150_000 / figures['rows_per_second']:.0f} s")
    return figures
