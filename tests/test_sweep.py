"""The missed-check-in sweep: exactly the people without proof get a case, once, however often and
however many workers run it; on PostgreSQL and on the embedded SQLite."""

from __future__ import annotations

import os
import threading
from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from server import db, migrate
from server.app import create_app
from server.context import Ctx
from server.models import AuditEntry, Beneficiary, BeneficiaryStatus, Cycle, CycleFrequency, Program, ReviewCase
from server.services import beneficiaries, cycles
from server.services.audit import Actor, first_broken_link
from server.services.cases import add_working_days
from server.services.sweep import dedupe_key, sweep, sweep_cycle
from tests.conftest import PG_ADMIN_URL, beneficiary_body, make_settings
from tests.support.checkins import check_in, enrolled_person
from tests.support.cli import invoke
from tests.support.jobs import import_report
from tests.support.sessions import genuine_session


def _today(app):
    return cycles.local_today(cycles.office_zone(app.config["FIELDCHECK"]))


def _cycle_body(region_code: str, app, **overrides) -> dict:
    today = _today(app)
    body = {
        "region_code": region_code,
        "opens_on": (today - timedelta(days=10)).isoformat(),
        "deadline": (today + timedelta(days=5)).isoformat(),
    }
    return body | overrides


@pytest.mark.usefixtures("celery_worker")
def test_only_the_person_without_proof_gets_a_case_and_sweeping_again_changes_nothing(app, api, world):
    supervisor = api.as_("supervisor_a")
    checked_in, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    exempted, with_evidence, without_proof = (
        supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], serial)).json()["id"]
        for serial in (2, 3, 4)
    )
    admin = api.as_("admin")
    cycle = admin.post("/api/v1/cycles", json=_cycle_body(world["county"], app)).json()

    assert check_in(phone, lambda actions: genuine_session("obama3.jpg", actions, seed=1))["status"] == "verified"
    today = _today(app)
    exemption = {
        "kind": "hospitalisation",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=20)).isoformat(),
        "reason": "县人民医院住院",
    }
    assert supervisor.post(f"/api/v1/beneficiaries/{exempted}/exemptions", json=exemption).status_code == 201
    csv = f"id_number,source,reference\n{beneficiary_body(world['village_a'], 3)['id_number']},县医院,ZY-2026-0042\n"
    report = import_report(supervisor, f"/api/v1/cycles/{cycle['id']}/evidence", {"file": ("e.csv", csv.encode())})
    assert report["created"] == 1, report

    status = supervisor.get(f"/api/v1/cycles/{cycle['id']}/status").json()
    assert (status["due"], status["satisfied"], status["unsatisfied"]) == (4, 3, 1)
    assert status["satisfied_by"] == {"checkin": 1, "exemption": 1, "evidence": 1, "visit": 0}

    after_grace = (today + timedelta(days=5 + 15 + 1)).isoformat()
    result = invoke(app, "sweep", "--today", after_grace)
    assert result.exit_code == 0, result.output
    assert "swept 1 cycles, opened 1 cases" in result.output

    cases = supervisor.get("/api/v1/cases", params={"kind": "missed_checkin"}).json()
    assert [c["beneficiary_id"] for c in cases] == [without_proof]
    assert cases[0]["details"]["cycle_id"] == cycle["id"]
    assert cases[0]["due_on"] == add_working_days(today + timedelta(days=21), 3).isoformat()
    assert {checked_in, exempted, with_evidence}.isdisjoint(c["beneficiary_id"] for c in cases)

    again = invoke(app, "sweep", "--today", after_grace)
    assert "swept 0 cycles, opened 0 cases" in again.output
    assert len(supervisor.get("/api/v1/cases", params={"kind": "missed_checkin"}).json()) == 1
    with app.app_context():
        session = db.session()
        sweeps = session.scalars(select(AuditEntry).where(AuditEntry.action == "cycle.swept")).all()
        assert [s.details["opened"] for s in sweeps] == [1]
        assert first_broken_link(Ctx.current()) is None


def test_only_active_people_in_the_cycles_region_and_programme_enrolled_by_the_deadline_are_due(app, api, world):
    supervisor = api.as_("supervisor_a")
    people = {
        "due": beneficiary_body(world["village_a"], 1),
        "other_programme": beneficiary_body(world["village_a"], 2, program="orphan"),
        "suspended": beneficiary_body(world["village_a"], 3),
        "enrolled_late": beneficiary_body(world["village_a"], 4),
    }
    ids = {name: supervisor.post("/api/v1/beneficiaries", json=body).json()["id"] for name, body in people.items()}
    outside = api.as_("supervisor_b").post("/api/v1/beneficiaries", json=beneficiary_body(world["village_b"], 5))
    assert outside.status_code == 201
    cycle = supervisor.post(
        "/api/v1/cycles", json=_cycle_body(world["township_a"], app, program="rural_minimum_allowance")
    ).json()
    with app.app_context():
        session = db.session()
        session.execute(
            update(Beneficiary).where(Beneficiary.id == ids["suspended"]).values(status=BeneficiaryStatus.SUSPENDED)
        )
        # Joined the day after the deadline (a roster import backdated by hand would look like this).
        late = cycles.window(session.get(Cycle, cycle["id"]), cycles.office_zone(app.config["FIELDCHECK"]))
        session.execute(
            update(Beneficiary).where(Beneficiary.id == ids["enrolled_late"]).values(created_at=late.enrolled_before)
        )
        session.commit()
        result = sweep(
            Ctx.current(), today=_today(app) + timedelta(days=21), zone=cycles.office_zone(app.config["FIELDCHECK"])
        )
        assert result.total == 1
        swept = session.scalars(select(ReviewCase.beneficiary_id)).all()
    assert [str(b) for b in swept] == [ids["due"]]


def _seed(app, count: int, cycle_region: str) -> Cycle:
    """`count` beneficiaries through the registry service and a county cycle whose grace has ended."""
    today = _today(app)
    actor = Actor(kind="staff", id=None, role="admin", region_code=cycle_region)
    with app.app_context():
        session = db.session()
        for serial in range(1, count + 1):
            body = beneficiary_body("431099001001", serial, monthly_amount=Decimal("335.00"), program=Program.ORPHAN)
            beneficiaries.create_beneficiary(Ctx.current(), actor=actor, data=body)
        cycle = Cycle(
            region_code=cycle_region,
            frequency=CycleFrequency.QUARTERLY,
            opens_on=today - timedelta(days=10),
            deadline=today + timedelta(days=5),
            grace_days=15,
        )
        session.add(cycle)
        session.commit()
        return cycle


def _concurrently(app, work) -> list:
    """Run work(session) in two threads with their own sessions, released together."""
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run() -> None:
        with app.app_context():
            session = db.session()
            barrier.wait()
            try:
                results.append(work(session))
            except Exception as exc:
                errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def test_two_workers_sweeping_at_once_open_each_case_once(app, world):
    cycle = _seed(app, 150, world["county"])
    zone = cycles.office_zone(app.config["FIELDCHECK"])
    after_grace = _today(app) + timedelta(days=21)

    def swept(session: Session) -> int:
        with db.unit_of_work(session):
            return sweep(Ctx.current(), today=after_grace, zone=zone).total

    results = _concurrently(app, swept)
    assert sorted(results) == [0, 150]
    with app.app_context():
        session = db.session()
        assert session.scalar(select(func.count()).select_from(ReviewCase)) == 150
        assert session.scalar(select(func.count()).where(AuditEntry.action == "cycle.swept")) == 1
        assert session.get(Cycle, cycle.id).swept_at is not None
        assert first_broken_link(Ctx.current()) is None


def test_the_sweep_statement_itself_is_idempotent_under_concurrency(app, world):
    """Even without the cycle lock (two INSERTs racing), ON CONFLICT lets one case per person in."""
    cycle = _seed(app, 150, world["county"])
    zone = cycles.office_zone(app.config["FIELDCHECK"])
    after_grace = _today(app) + timedelta(days=21)

    def insert(session: Session) -> int:
        opened = sweep_cycle(Ctx.current(), cycle=session.get(Cycle, cycle.id), today=after_grace, zone=zone)
        session.commit()
        return opened

    assert sum(_concurrently(app, insert)) == 150
    with app.app_context():
        session = db.session()
        assert insert(session) == 0
        keys = set(session.scalars(select(ReviewCase.dedupe_key)))
        people = session.scalars(select(Beneficiary.id)).all()
    assert keys == {dedupe_key(str(person), str(cycle.id)) for person in people}


@pytest.fixture
def sqlite_app(app, tmp_path):
    """A second app on the embedded SQLite; the suite's app gets its Celery app back as the default after."""
    settings = make_settings(tmp_path, database_url=f"sqlite:///{tmp_path / 'fc.db'}", broker_url="memory://")
    yield create_app(settings)
    # create_app makes its Celery app the process default; the suite's in-process worker needs its own.
    app.extensions["fieldcheck.celery"].set_default()


def test_the_sweep_runs_on_the_embedded_sqlite(sqlite_app):
    settings = sqlite_app.config["FIELDCHECK"]
    with sqlite_app.app_context():
        migrate.upgrade(db.engine())
        session = db.session()
        session.execute(
            text(
                "INSERT INTO region (code, name, level, parent_code) VALUES "
                "('431099', 'c', 'county', NULL), ('431099001', 't', 'township', '431099'), "
                "('431099001001', 'v', 'village', '431099001')"
            )
        )
        session.commit()
    _seed(sqlite_app, 5, "431099")
    with sqlite_app.app_context():
        session = db.session()
        zone = cycles.office_zone(settings)
        after_grace = _today(sqlite_app) + timedelta(days=21)
        assert sweep(Ctx.current(), today=after_grace, zone=zone).total == 5
        assert sweep(Ctx.current(), today=after_grace, zone=zone).total == 0
        cycle = session.scalars(select(Cycle)).one()
        assert sweep_cycle(Ctx.current(), cycle=cycle, today=after_grace, zone=zone) == 0
        keys = set(session.scalars(select(ReviewCase.dedupe_key)))
        people = session.scalars(select(Beneficiary.id)).all()
        assert keys == {dedupe_key(str(person), str(cycle.id)) for person in people}
        assert first_broken_link(Ctx.current()) is None


def test_bench_sweep_seeds_times_and_drops_its_scratch_database(app):
    result = invoke(app, "bench", "sweep", "--beneficiaries", "500")
    assert result.exit_code == 0, result.output
    assert "sweep: 350 missed_checkin cases opened" in result.output
    assert "second sweep (the hourly duty afterwards): 0 opened" in result.output
    assert "ON CONFLICT path): 0 opened" in result.output
    assert result.output.rstrip().endswith("OK")
    with psycopg.connect(PG_ADMIN_URL) as conn:
        scratch = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (f"%_{os.getpid()}_%",))
        assert [name for (name,) in scratch if name.startswith("fieldcheck_bench_")] == []


def test_a_two_day_hospital_stay_mid_cycle_moves_the_deadline_two_days_and_satisfies_nothing(app, api, world):
    supervisor = api.as_("supervisor_a")
    stayed, other = (
        supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], serial)).json()["id"]
        for serial in (1, 2)
    )
    cycle = api.as_("admin").post("/api/v1/cycles", json=_cycle_body(world["county"], app)).json()
    today = _today(app)
    stay = {
        "kind": "hospitalisation",
        "starts_on": (today - timedelta(days=5)).isoformat(),
        "ends_on": (today - timedelta(days=4)).isoformat(),
        "reason": "县人民医院住院两天",
    }
    assert supervisor.post(f"/api/v1/beneficiaries/{stayed}/exemptions", json=stay).status_code == 201

    status = supervisor.get(f"/api/v1/cycles/{cycle['id']}/status").json()
    assert (status["due"], status["satisfied"], status["satisfied_by"]["exemption"]) == (2, 0, 0)
    [mine] = [
        c for c in supervisor.get(f"/api/v1/beneficiaries/{stayed}/cycles").json() if c["cycle"]["id"] == cycle["id"]
    ]
    closes_on = date.fromisoformat(cycle["closes_on"])
    assert mine["satisfied"] is False
    assert mine["deadline"] == (date.fromisoformat(cycle["deadline"]) + timedelta(days=2)).isoformat()
    assert mine["last_day"] == (closes_on + timedelta(days=2)).isoformat()

    def swept_on(days_after_close: int) -> list[str]:
        day = (closes_on + timedelta(days=days_after_close)).isoformat()
        assert invoke(app, "sweep", "--today", day).exit_code == 0
        return sorted(
            c["beneficiary_id"] for c in supervisor.get("/api/v1/cases", params={"kind": "missed_checkin"}).json()
        )

    # The day after the cycle closes only the other person is late; the one who was in hospital has
    # two more days (their last day is closes_on + 2), and is flagged the day after those.
    assert swept_on(1) == [other]
    assert swept_on(2) == [other]
    assert swept_on(3) == sorted([other, stayed])
    assert swept_on(4) == sorted([other, stayed])
    with app.app_context():
        assert db.session().get(Cycle, cycle["id"]).moved_until is None
