"""Fixtures for the whole suite: a real PostgreSQL database, a real Redis broker, the app served
over real HTTP on loopback, and a real Celery worker consuming from Redis in this process."""

from __future__ import annotations

import itertools
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
import requests
from argon2 import PasswordHasher, profiles
from celery.contrib.testing.worker import start_worker
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from server import db, migrate
from server.api import throttle
from server.app import create_app
from server.config import CycleSettings, Settings
from server.context import Ctx
from server.models import Base, StaffRole
from server.services import auth, regions, staff
from server.services.audit import GENESIS_HASH, Actor
from server.services.resident_id import check_character

PG_ADMIN_URL = os.environ.get("FIELDCHECK_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("FIELDCHECK_TEST_REDIS", "redis://127.0.0.1:6379/9")
PASSWORD = "correct horse battery staple"

# Two townships of one county, a village in each: enough to prove that scope holds.
COUNTY = "431099"
TOWNSHIP_A, TOWNSHIP_B = "431099001", "431099002"
VILLAGE_A, VILLAGE_B = "431099001001", "431099002001"
REGIONS = [
    (COUNTY, "示范县"),
    (TOWNSHIP_A, "城关镇"),
    (TOWNSHIP_B, "青山乡"),
    (VILLAGE_A, "东门社区"),
    (VILLAGE_B, "青山村"),
]


# Tests that each take tens of seconds (a real worker process through a fault, a browser through a
# story, the fuzzer). Collected first, so the two test processes share them out at the start instead of
# one of them finishing the run alone on a long test.
SLOW_FIRST = (
    "tests/test_faults.py",
    "tests/browser/",
    "tests/api/test_schemathesis.py",
    "tests/test_embedded_default.py",
    "tests/test_bench_visits.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith(SLOW_FIRST))


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped when the block ends."""
    name = f"fieldcheck_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    admin = psycopg.conninfo.conninfo_to_dict(PG_ADMIN_URL)
    user, host, port = admin.get("user", "postgres"), admin.get("host", "127.0.0.1"), admin.get("port", 5432)
    try:
        yield f"postgresql+psycopg://{user}@{host}:{port}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    with fresh_pg_database() as url:
        yield url


def make_settings(instance: Path, *, database_url: str, broker_url: str, storage_url: str | None = None) -> Settings:
    """Settings for a test app, with fresh keys and the default thresholds."""
    return Settings(
        instance_path=instance,
        database_url=database_url,
        storage_url=storage_url or f"file://{instance / 'objects'}",
        broker_url=broker_url,
        secret_key=secrets.token_urlsafe(32),
        data_key=secrets.token_bytes(32),
    )


@pytest.fixture(scope="session")
def app(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The app on PostgreSQL, Redis and a local object folder, migrated to head."""
    settings = make_settings(tmp_path_factory.mktemp("instance"), database_url=pg_url, broker_url=REDIS_URL)
    flask_app = create_app(settings)
    # A queue of this run's own, so two test runs on one machine never take each other's tasks.
    flask_app.extensions["fieldcheck.celery"].conf.task_default_queue = f"fieldcheck-test-{pg_url.rsplit('/', 1)[1]}"
    with flask_app.app_context():
        migrate.upgrade(db.engine())
    return flask_app


@contextmanager
def served(app: Flask, *, tls: bool = False) -> Iterator[str]:
    """The app served on a free loopback port for as long as the block runs: over HTTP, or with `tls` over
    HTTPS with a self-signed certificate made for the run (as an office's proxy would terminate it)."""
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context="adhoc" if tls else None)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def live_url(app: Flask) -> Iterator[str]:
    """The app served over HTTP on a free loopback port."""
    with served(app) as url:
        yield url


@pytest.fixture(scope="session")
def live_https_url(app: Flask) -> Iterator[str]:
    """The app served over HTTPS on another free loopback port."""
    with served(app, tls=True) as url:
        yield url


@pytest.fixture(scope="session")
def celery_worker(app: Flask) -> Iterator[None]:
    """A real Celery worker consuming the Redis broker in this process (not eager mode)."""
    celery = app.extensions["fieldcheck.celery"]
    with start_worker(celery, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
        yield


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """Argon2's cheapest profile for the accounts this process creates and logs in to: argon2-cffi ships it
    for tests. The production profile costs 0.1 CPU-s a hash, and the suite seeds five accounts per test and
    logs in hundreds of times. Servers the suite starts as processes (the embedded default, the fault
    tests) keep the production profile."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
        yield


@pytest.fixture(autouse=True)
def clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table before each test that uses the app, and restart the audit chain."""
    if "app" not in request.fixturenames:
        yield
        return
    flask_app: Flask = request.getfixturevalue("app")
    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name != "audit_chain_head"]
    # DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE replaces every table's files (a second
    # a test). Replica mode turns off the triggers for this transaction only: foreign keys, so the order
    # does not matter, and the audit log's append-only guard. The worker may still be finishing a task the
    # previous test left behind; when PostgreSQL picks this transaction as the deadlock victim, go again.
    for attempt in itertools.count(1):
        try:
            with flask_app.app_context(), db.engine().begin() as conn:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                for table in tables:
                    conn.execute(text(f"DELETE FROM {table}"))
                conn.execute(text("UPDATE audit_chain_head SET seq = 0, last_hash = :h"), {"h": GENESIS_HASH})
            break
        except OperationalError as exc:
            if not isinstance(exc.orig, psycopg.errors.DeadlockDetected) or attempt == 5:
                raise
    # Failed logins of one test must not throttle the next.
    with flask_app.app_context():
        throttle.reset()
    yield


@pytest.fixture
def world(app: Flask) -> dict[str, str]:
    """Regions and accounts: a county admin, two supervisors of township A, one of B, a field worker in A."""
    return seed_world(app)


def seed_world(app: Flask) -> dict[str, str]:
    """Create the test world's regions and accounts in app's database; its region codes by role."""
    with app.app_context():
        session = db.session()
        actor = Actor(kind="system", id="test-setup")
        for code, name in REGIONS:
            regions.create_region(Ctx.current(), actor=actor, code=code, name=name)
            session.flush()
        accounts = {
            "admin": (StaffRole.ADMIN, COUNTY),
            "supervisor_a": (StaffRole.SUPERVISOR, TOWNSHIP_A),
            # A second supervisor in township A: suspensions need a second person's approval.
            "supervisor_a2": (StaffRole.SUPERVISOR, TOWNSHIP_A),
            "supervisor_b": (StaffRole.SUPERVISOR, TOWNSHIP_B),
            "worker_a": (StaffRole.FIELD_WORKER, VILLAGE_A),
        }
        for username, (role, region) in accounts.items():
            staff.create_staff_user(
                Ctx.current(), actor=actor, username=username, password=PASSWORD, role=role, region_code=region
            )
        session.commit()
    return {
        "county": COUNTY,
        "township_a": TOWNSHIP_A,
        "township_b": TOWNSHIP_B,
        "village_a": VILLAGE_A,
        "village_b": VILLAGE_B,
    }


class Api:
    """A small HTTP client for the live server; `as_(username)` logs in through the API."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def as_(self, username: str, password: str = PASSWORD) -> Api:
        response = requests.post(
            f"{self.base_url}/api/v1/auth/token", json={"username": username, "password": password}, timeout=30
        )
        assert response.status_code == 200, response.text
        return Api(self.base_url, response.json()["access_token"])

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        return self.http.request(method, f"{self.base_url}{path}", **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def api(live_url: str, world: dict[str, str]) -> Api:
    """An anonymous client; the test world exists."""
    return Api(live_url)


def office_today() -> date:
    """Today on the offices' clock, which the server judges dates by (UTC+8 by default): from 16:00 UTC on,
    it is already tomorrow there."""
    return datetime.now(timezone(timedelta(hours=CycleSettings().utc_offset_hours))).date()


def wait_for(predicate: Callable[[], object], *, timeout: float = 60, interval: float = 0.2) -> object:
    """Poll until predicate returns something truthy (a worker finishing), or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def id_number(village_code: str, serial: int, birth: str = "19450312") -> str:
    """A well-formed resident ID for test data (the check digit is computed, not asserted)."""
    first17 = f"{village_code[:6]}{birth}{serial:03d}"
    return first17 + check_character(first17)


def beneficiary_body(village_code: str, serial: int, **overrides) -> dict:
    body = {
        "id_number": id_number(village_code, serial),
        "name": f"测试{serial}",
        "program": "rural_minimum_allowance",
        "village_code": village_code,
        "monthly_amount": "335.00",
        "phone": "13800138000",
        "home_address": "河西村3组12号",
        "home_lat": 27.83,
        "home_lon": 112.92,
    }
    return body | overrides
