"""Payment runs, the coverage report and the paged lists at county scale, on a scratch PostgreSQL database.

Seeds a county the way `bench console` does (N beneficiaries in 1,000 villages, about 70% of them with a
missed_checkin case), then adds what the lists page through: a check-in in review for one person in five
(beside the fifth the seed verifies), a home visit and a visit task for two in five each, and terminates
one in fifty (150,000 people: 60,000 check-ins, visits and visit tasks each, 105,000 cases). Then VACUUM
ANALYZE, as autovacuum would have done, and each figure beside its floor from the same run:

`bench payments`:
- build: the run's job as the worker runs it (claim, one batch, commit) vs a bare INSERT … SELECT of the
  same lines' columns into a copy of payment_line (its indexes included);
- CSV: the export as sent vs `COPY (…) TO STDOUT CSV` of the same columns in the same order;
- XLSX: the export as sent vs openpyxl's write-only mode writing the same rows, read beforehand;
- coverage: the county's report vs one grouped count of its people per township.
`bench lists`: p50/p95 of page 1 and page 1,000 (50 a page) of every list the console or the apps page
through, page 1,000 both by number and by the cursor page 999 hands out, over HTTP in-process (Flask's test
client: the server's own time, no network), vs the same page's bare query in psycopg (OFFSET/LIMIT, or the
keyset comparison from the sort key, no count, no objects).
"""

from __future__ import annotations

import io
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from flask import Flask
from sqlalchemy import select, text

from bench.console import PASSWORD, reuse_county, seed_county
from bench.scratch import scratch_app
from bench.sweep import COUNTY
from server import db
from server.context import Ctx
from server.models import StaffUser
from server.services import coverage, cycles, imports, jobs, payments, regions
from server.services.auth import staff_actor

PAGE_SIZE = 50
# The county's scope as services.regions.in_scope writes it.
SCOPE = (COUNTY, COUNTY + "9" * 6)
DEEP_PAGE = 1000
TARGET_MS = 20

EXTRA = [
    # A check-in in review for every tenth person with serial ending in 3 or 4.
    """INSERT INTO checkin_challenge (id, beneficiary_id, staff_id, mode, nonce, actions, issued_at, expires_at,
                                      used_at)
       SELECT gen_random_uuid(), id, :staff, 'assisted_staff', md5(id::text || 'r'), '[]', :at, :at, :at
       FROM beneficiary WHERE id_number_index::bigint % 10 IN (3, 4)""",
    """INSERT INTO checkin (id, beneficiary_id, challenge_id, client_id, mode, staff_id, region_code, device_info,
                           state, attempts, reasons, scores, created_at, updated_at)
       SELECT gen_random_uuid(), c.beneficiary_id, c.id, 'bench-review', 'assisted_staff', :staff, b.village_code,
              '{}', 'review', 1, '[]', '{}', :at + (b.id_number_index::bigint % 86400) * interval '1 second', :at
       FROM checkin_challenge c JOIN beneficiary b ON b.id = c.beneficiary_id
       WHERE c.nonce = md5(b.id::text || 'r')""",
    """INSERT INTO visit (id, field_worker_id, client_id, beneficiary_id, region_code, worker_region_code,
                         started_at, ended_at, received_at, gps_fixes, checklist_version, checklist, outcome,
                         device_info, quarantined, version, created_at, updated_at)
       SELECT gen_random_uuid(), :staff, ltrim(id_number_index, '0'), id, village_code, :county,
              :at + (id_number_index::bigint % 86400) * interval '1 second', :at, :at, :gps, 1, :checklist,
              'confirmed_present', '{}', false, 1, :at, :at
       FROM beneficiary WHERE id_number_index::bigint % 10 IN (5, 6, 7, 8)""",
    """INSERT INTO visit_task (id, beneficiary_id, field_worker_id, region_code, due_on, state, created_by,
                              created_at)
       SELECT gen_random_uuid(), id, :staff, village_code, :due + (id_number_index::bigint % 60)::int, 'open',
              :staff, :at
       FROM beneficiary WHERE id_number_index::bigint % 10 IN (1, 3, 5, 7)""",
    """UPDATE beneficiary SET status = 'terminated', terminated_on = :due
       WHERE id_number_index::bigint % 50 = 9""",
]


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _timed(fn: Callable[[], object]) -> tuple[object, float]:
    began = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - began


def _libpq(app: Flask) -> str:
    return db.engine().url.set(drivername="postgresql").render_as_string(False)


def _line(echo: Callable[[str], None], label: str, figure: float, floor: float, unit: str = "s") -> float:
    ratio = figure / floor if floor else float("inf")
    echo(f"{label:<34} {figure:>10.3f} {unit}  floor {floor:>9.3f} {unit}  ratio {ratio:5.2f}×")
    return ratio


@contextmanager
def _county(people: int, database_url: str, echo: Callable[[str], None], keep: str | None = None) -> Iterator[Flask]:
    """The seeded county; with `keep`, the one a first run seeded and left (its admin given a fresh password)."""
    with scratch_app(database_url, keep=keep) as app, app.app_context():
        context = Ctx.current()
        session = context.session
        if keep and session.scalar(text("SELECT count(*) FROM visit_task")):
            reuse_county(app)
            echo(f"reusing {keep}: {session.scalar(text('SELECT count(*) FROM beneficiary')):,} beneficiaries")
            yield app
            return
        began = time.perf_counter()
        seed_county(app, people)
        staff = session.scalar(select(StaffUser.id).where(StaffUser.username == "bench"))
        at = session.scalar(text("SELECT max(created_at) FROM checkin"))
        params = {
            "staff": staff,
            "at": at,
            "county": COUNTY,
            "due": at.date(),
            "gps": context.cipher.encrypt(b"[]", context="visit.gps_fixes"),
            "checklist": context.cipher.encrypt(b"{}", context="visit.checklist"),
        }
        with db.unit_of_work(session):
            for statement in EXTRA:
                session.execute(text(statement), params)
        with psycopg.connect(_libpq(app), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        echo(f"seeded {people:,} beneficiaries and what they page through in {time.perf_counter() - began:.1f} s")
        yield app


def _admin(context: Ctx):
    return staff_actor(context.session.scalar(select(StaffUser).where(StaffUser.username == "bench-admin")))


def _build(context: Ctx, period: str) -> payments.PaymentRun:
    actor = _admin(context)
    job = jobs.start_job(
        context,
        actor=actor,
        kinds=imports.KINDS,
        kind=payments.BUILD,
        data=b"",
        params={"period": period, "region": COUNTY},
        ring=lambda *_: None,
    )
    outcome = jobs.run_job(
        context,
        job_id=job.id,
        kinds=imports.KINDS,
        actor_of=staff_actor,
    )
    assert outcome == "done", outcome
    context.session.refresh(job)
    with db.unit_of_work(context.session):
        return payments.built_run(context, actor=actor, result=jobs.job_result(context, job=job))


def _insert_floor(app: Flask, period: str) -> float:
    with psycopg.connect(_libpq(app)) as conn:
        conn.execute("CREATE TABLE bench_line (LIKE payment_line INCLUDING ALL)")
        conn.execute("ALTER TABLE bench_line DROP CONSTRAINT IF EXISTS bench_line_run_id_fkey")
        began = time.perf_counter()
        conn.execute(
            """INSERT INTO bench_line (run_id, beneficiary_id, period, category, village_code, name,
                                       id_number_masked, amount, arrears_amount)
               SELECT gen_random_uuid(), id, %s, 'pay', village_code, name, id_number_masked, monthly_amount, 0
               FROM beneficiary WHERE village_code BETWEEN %s AND %s ORDER BY village_code, name, id""",
            (period, *SCOPE),
        )
        conn.commit()
        elapsed = time.perf_counter() - began
        conn.execute("DROP TABLE bench_line")
        conn.commit()
    return elapsed


def _export(context: Ctx, run: payments.PaymentRun, fmt: str) -> int:
    with db.unit_of_work(context.session):
        chunks, _type, _name = payments.export(context, actor=_admin(context), run=run, fmt=fmt)
    return sum(len(chunk) for chunk in db.streamed(context.session, chunks))


def _copy_floor(app: Flask, run: payments.PaymentRun) -> float:
    query = (
        "COPY (SELECT village_code, name, id_number_masked, category, amount, arrears_amount, "
        f"amount + arrears_amount, coalesce(flag, '') FROM payment_line WHERE run_id = '{run.id}' "
        "ORDER BY village_code, name, id) TO STDOUT CSV"
    )
    with psycopg.connect(_libpq(app)) as conn:
        began = time.perf_counter()
        size = 0
        with conn.cursor().copy(query) as copy:
            for block in copy:
                size += len(block)
        return time.perf_counter() - began


def _openpyxl_floor(app: Flask, run: payments.PaymentRun) -> float:
    from decimal import Decimal

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    with psycopg.connect(_libpq(app)) as conn:
        rows = conn.execute(
            "SELECT village_code, name, id_number_masked, category, amount, arrears_amount, "
            "amount + arrears_amount, coalesce(flag, '') FROM payment_line WHERE run_id = %s "
            "ORDER BY village_code, name, id",
            (run.id,),
        ).fetchall()
    began = time.perf_counter()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(run.period)
    sheet.append(payments.COLUMNS)
    for row in rows:
        cells = list(row)
        for index in (4, 5, 6):
            cell = WriteOnlyCell(sheet, value=Decimal(cells[index]))
            cell.number_format = "0.00"
            cells[index] = cell
        sheet.append(cells)
    workbook.save(io.BytesIO())
    return time.perf_counter() - began


def _grouped_count(app: Flask) -> float:
    with psycopg.connect(_libpq(app)) as conn:
        began = time.perf_counter()
        conn.execute(
            "SELECT substr(village_code, 1, 9), count(*) FROM beneficiary WHERE village_code BETWEEN %s AND %s "
            "GROUP BY 1",
            SCOPE,
        ).fetchall()
        return time.perf_counter() - began


def run_payments(people: int, database_url: str, echo: Callable[[str], None] = print) -> dict[str, float]:
    """Seed, then print build, CSV, XLSX and coverage beside their floors; returns the ratios."""
    with _county(people, database_url, echo) as app:
        context = Ctx.current()
        today = cycles.local_today(cycles.office_zone(app.config["FIELDCHECK"]))
        period = f"{today:%Y-%m}"
        floor = _insert_floor(app, period)
        run, build = _timed(lambda: _build(context, period))
        echo(f"run {period}: {sum(run.counts.values()):,} lines {run.counts}")
        ratios = {"build": _line(echo, "build (job, in-process)", build, floor)}
        size, csv_time = _timed(lambda: _export(context, run, "csv"))
        ratios["csv"] = _line(echo, f"CSV export ({size / 1e6:.1f} MB)", csv_time, _copy_floor(app, run))
        size, xlsx_time = _timed(lambda: _export(context, run, "xlsx"))
        ratios["xlsx"] = _line(echo, f"XLSX export ({size / 1e6:.1f} MB)", xlsx_time, _openpyxl_floor(app, run))
        first = today.replace(day=1)
        samples = []
        for _ in range(5):
            _result, seconds = _timed(
                lambda: coverage.coverage(context, actor=_admin(context), region_code=COUNTY, first=first, last=today)
            )
            samples.append(seconds)
        floors = [_grouped_count(app) for _ in range(5)]
        ratios["coverage"] = _line(
            echo, "coverage report (median of 5)", statistics.median(samples), statistics.median(floors)
        )
        return ratios


# Per list: its path, table, scope (as services.regions.in_scope writes it, both columns for visits) and order,
# which runs one way (the cursor compares the whole sort key).
LISTS = {
    "cases": ("/api/v1/cases", "review_case", "region_code BETWEEN %(lo)s AND %(hi)s", "due_on, created_at, id", ""),
    "check-ins": ("/api/v1/checkins", "checkin", "region_code BETWEEN %(lo)s AND %(hi)s", "created_at, id", "DESC"),
    "visits": (
        "/api/v1/visits",
        "visit",
        "(region_code BETWEEN %(lo)s AND %(hi)s OR worker_region_code BETWEEN %(lo)s AND %(hi)s)",
        "started_at, id",
        "DESC",
    ),
    "beneficiaries": (
        "/api/v1/beneficiaries",
        "beneficiary",
        "village_code BETWEEN %(lo)s AND %(hi)s",
        "village_code, name, id",
        "",
    ),
    "visit tasks": (
        "/api/v1/visit-tasks",
        "visit_task",
        "region_code BETWEEN %(lo)s AND %(hi)s",
        "due_on, created_at, id",
        "",
    ),
}


def _bare(table: str, scope: str, key: str, direction: str) -> dict[str, str]:
    """The same pages' bare queries: OFFSET/LIMIT, and the keyset from a sort key, neither with a count."""
    order = ", ".join(f"{column} {direction}" for column in key.split(", "))
    after = ", ".join(f"%(k{n})s" for n in range(len(key.split(", "))))
    return {
        "offset": f"SELECT * FROM {table} WHERE {scope} ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s",
        "cursor": f"SELECT * FROM {table} WHERE {scope} AND ({key}) {'<' if direction else '>'} ({after}) "
        f"ORDER BY {order} LIMIT %(limit)s",
        "key": f"SELECT {key} FROM {table} WHERE {scope} ORDER BY {order} LIMIT 1 OFFSET %(offset)s",
    }


def _load() -> str:
    return "load average " + " ".join(f"{figure:.2f}" for figure in os.getloadavg())


def run_lists(
    people: int, repeats: int, database_url: str, echo: Callable[[str], None] = print, keep: str | None = None
) -> dict[str, float]:
    """Seed (or, with `keep`, reuse a county kept before), then print p50/p95 of page 1 and of page 1,000 by number
    (OFFSET) and by cursor (the cursor page 999 gives) per list, beside the bare query's p95; returns the p95s."""
    with _county(people, database_url, echo, keep) as app:
        client = app.test_client()
        token = client.post("/api/v1/auth/token", json={"username": "bench-admin", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
        lo, hi = regions.scope_bounds(COUNTY)
        deep = (DEEP_PAGE - 1) * PAGE_SIZE
        figures = {}
        echo(_load())
        echo(f"{'list, page':<36} {'p50 ms':>8} {'p95 ms':>8} {'bare p95':>9} {'ratio':>7}")
        with psycopg.connect(_libpq(app)) as conn:
            for name, (path, table, scope, key, direction) in LISTS.items():
                bare = _bare(table, scope, key, direction)
                row = conn.execute(bare["key"], {"lo": lo, "hi": hi, "offset": deep - 1}).fetchone()
                if row is None:
                    echo(f"{name:<36} (fewer than {DEEP_PAGE} pages: seed more people)")
                    continue
                params = {"lo": lo, "hi": hi, "limit": PAGE_SIZE} | {f"k{n}": value for n, value in enumerate(row)}
                before = client.get(path, query_string={"page": DEEP_PAGE - 1, "page_size": PAGE_SIZE}, headers=headers)
                cursor = json.loads(before.headers["X-Pagination"])["next_cursor"]
                ways = {
                    "page 1": ({"page": 1}, bare["offset"], {"offset": 0}),
                    f"page {DEEP_PAGE:,} by number": ({"page": DEEP_PAGE}, bare["offset"], {"offset": deep}),
                    f"page {DEEP_PAGE:,} by cursor": ({"cursor": cursor}, bare["cursor"], {}),
                }
                for way, (query, floor_sql, floor_params) in ways.items():
                    samples, floors = [], []
                    for _ in range(repeats):
                        began = time.perf_counter()
                        response = client.get(path, query_string=query | {"page_size": PAGE_SIZE}, headers=headers)
                        samples.append((time.perf_counter() - began) * 1000)
                        assert response.status_code == 200, (path, response.status_code, response.get_data(True))
                        began = time.perf_counter()
                        conn.execute(floor_sql, params | floor_params).fetchall()
                        floors.append((time.perf_counter() - began) * 1000)
                    assert len(response.get_json()) == PAGE_SIZE, (path, way)
                    p95, floor = _percentile(samples, 0.95), _percentile(floors, 0.95)
                    figures[f"{name} {way}"] = p95
                    flag = "" if p95 < TARGET_MS else f"  over {TARGET_MS} ms"
                    echo(
                        f"{name + ', ' + way:<36} {statistics.median(samples):>8.1f} {p95:>8.1f}"
                        f" {floor:>9.2f} {p95 / floor:>6.1f}×{flag}"
                    )
        echo(_load())
        return figures
