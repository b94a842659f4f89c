"""The missed-check-in sweep at scale, on a scratch PostgreSQL database.

Seeds one county (10 townships, 1,000 villages) with N active beneficiaries in SQL
(generate_series, no Python per row), gives 20% a verified check-in and 10% an exemption in one
county-wide cycle whose grace period has ended, then times:
  1. the sweep (one INSERT … SELECT … ON CONFLICT DO NOTHING, committed with its audit entry);
  2. a second sweep, as the hourly duty runs it afterwards (the cycle is marked swept: nothing to do);
  3. the cycle's INSERT run again regardless of the mark: the ON CONFLICT path, which opens nothing.
The encrypted columns (ID number) hold one fixed dummy ciphertext: the sweep never reads them, and
encrypting a million values would time the seeding, not the sweep. The database is dropped at the end.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta, tzinfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bench.scratch import scratch_database
from server import migrate
from server.context import Ctx
from server.db import make_engine, unit_of_work
from server.models import Cycle, CycleFrequency, ReviewCase
from server.services.cycles import local_today
from server.services.sweep import sweep, sweep_cycle

COUNTY = "431099"
# Of every ten beneficiaries (by serial number): two with a verified check-in, one exempted, seven without proof.
CHECKED_IN, EXEMPTED = "(0, 1)", "(2)"
UNSATISFIED_PER_TEN = 7


SEED = [
    f"INSERT INTO region (code, name, level, parent_code) VALUES ('{COUNTY}', 'bench county', 'county', NULL)",
    f"""INSERT INTO region (code, name, level, parent_code)
        SELECT '{COUNTY}' || lpad(t::text, 3, '0'), 'township ' || t, 'township', '{COUNTY}'
        FROM generate_series(1, 10) t""",
    f"""INSERT INTO region (code, name, level, parent_code)
        SELECT '{COUNTY}' || lpad(t::text, 3, '0') || lpad(v::text, 3, '0'), 'village ' || v, 'village',
               '{COUNTY}' || lpad(t::text, 3, '0')
        FROM generate_series(1, 10) t, generate_series(1, 100) v""",
    f"""INSERT INTO staff_user (id, username, display_name, password_hash, role, region_code, is_active,
                                created_at, updated_at)
        VALUES (:staff, 'bench', 'bench', 'not-a-login', 'admin', '{COUNTY}', true, now(), now())""",
    f"""INSERT INTO beneficiary (id, id_number, id_number_index, id_number_masked, name, program, village_code,
                                 status, monthly_amount, version, created_at, updated_at)
        SELECT gen_random_uuid(), '\\x00'::bytea, lpad(g::text, 64, '0'), '4310**********0000', 'bench',
               CASE WHEN g % 2 = 0 THEN 'rural_minimum_allowance' ELSE 'urban_minimum_allowance' END,
               '{COUNTY}' || lpad((g % 10 + 1)::text, 3, '0') || lpad((g / 10 % 100 + 1)::text, 3, '0'),
               'active', 335, 1, :enrolled, :enrolled
        FROM generate_series(1, :n) g""",
    f"""INSERT INTO checkin_challenge (id, beneficiary_id, staff_id, mode, nonce, actions, issued_at, expires_at,
                                       used_at)
        SELECT gen_random_uuid(), id, :staff, 'assisted_staff', md5(id::text), '[]', :at, :at, :at
        FROM beneficiary WHERE id_number_index::bigint % 10 IN {CHECKED_IN}""",
    """INSERT INTO checkin (id, beneficiary_id, challenge_id, client_id, mode, staff_id, region_code, device_info,
                            state, attempts, reasons, scores, decided_at, created_at, updated_at)
       SELECT gen_random_uuid(), c.beneficiary_id, c.id, 'bench', 'assisted_staff', :staff, b.village_code, '{}',
              'verified', 1, '[]', '{}', :at, :at, :at
       FROM checkin_challenge c JOIN beneficiary b ON b.id = c.beneficiary_id""",
    f"""INSERT INTO exemption (id, beneficiary_id, kind, starts_on, ends_on, reason, approved_by, created_at,
                               updated_at)
        SELECT gen_random_uuid(), id, 'hospitalisation', :opens_on, :deadline, 'bench', :staff, now(), now()
        FROM beneficiary WHERE id_number_index::bigint % 10 IN {EXEMPTED}""",
    "ANALYZE",
]


def _timed(fn: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def run(count: int, database_url: str, zone: tzinfo, echo: Callable[[str], None] = print) -> dict[str, float]:
    """Seed `count` beneficiaries in a scratch database, time the sweeps, print the figures, drop it."""
    with scratch_database(database_url) as url:
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
            today = local_today(zone)
            opens_on, deadline = today - timedelta(days=120), today - timedelta(days=30)
            params = {
                "n": count,
                "staff": uuid.uuid4(),
                "enrolled": opens_on - timedelta(days=1),
                "at": opens_on + timedelta(days=10),
                "opens_on": opens_on,
                "deadline": deadline,
            }
            with Session(engine) as session:
                ctx = Ctx.current().using(session)
                seed_start = time.perf_counter()
                for statement in SEED:
                    session.execute(text(statement), params)
                session.commit()
                seeded = time.perf_counter() - seed_start
                echo(f"seeded {count:,} beneficiaries (20% checked in, 10% exempted) in {seeded:.1f} s")
                cycle = Cycle(
                    region_code=COUNTY,
                    program=None,
                    frequency=CycleFrequency.QUARTERLY,
                    opens_on=opens_on,
                    deadline=deadline,
                    grace_days=15,
                )
                session.add(cycle)
                session.commit()
                # Serials 1..count: full tens have seven each; of the rest (1..count % 10), those from 3 on.
                expected = count // 10 * UNSATISFIED_PER_TEN + max(0, count % 10 - 2)

                def swept() -> int:
                    with unit_of_work(session):
                        return sweep(ctx, today=today, zone=zone).total

                first, first_s = _timed(swept)
                second, second_s = _timed(swept)

                def resweep() -> int:
                    with unit_of_work(session):
                        return sweep_cycle(ctx, cycle=cycle, today=today, zone=zone)

                again, again_s = _timed(resweep)
                cases = session.scalar(select(func.count()).select_from(ReviewCase))
            echo(f"sweep: {first:,} missed_checkin cases opened in {first_s:.2f} s (expected {expected:,})")
            echo(f"second sweep (the hourly duty afterwards): {second} opened in {second_s:.3f} s")
            echo(f"the cycle's INSERT again (ON CONFLICT path): {again} opened in {again_s:.2f} s")
            echo(f"cases in the database: {cases:,}; {'OK' if first == cases == expected else 'MISMATCH'}")
            return {"seed_s": seeded, "sweep_s": first_s, "second_s": second_s, "again_s": again_s, "opened": first}
        finally:
            engine.dispose()
