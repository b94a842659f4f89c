"""Faults with a real worker process: killed mid-task, broker down, storage unreadable, PostgreSQL restarted.

The worker runs as `fieldcheck worker --beat` in its own process group on the suite's database and
objects, with a private redis-server as its broker (so the suite's in-process worker never takes
these tasks, and the broker can be stopped without touching anyone else's); the PostgreSQL restart
runs on a private server with an app and a world of its own. Each test keeps the
fault short; the figures they assert are the ones the README gives.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import func, select, text

from server import db, migrate
from server.app import create_app
from server.models import AuditEntry, Checkin, CheckinState
from tests.conftest import Api, make_settings, seed_world, served, wait_for
from tests.support.checkins import actions_of, enrolled_person, new_challenge, submit
from tests.support.postgres import PrivatePostgres
from tests.support.sessions import genuine_session

RECOVERY_SECONDS = 30
DECIDED = (CheckinState.VERIFIED, CheckinState.REVIEW, CheckinState.REJECTED)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Broker:
    """A private redis-server on a free loopback port, which a test may stop and start again."""

    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
        )
        wait_for(lambda: _listening(self.port), timeout=10, interval=0.05)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Worker:
    """`fieldcheck worker --beat` as an operator runs it, in its own process group (kill -9 takes it all)."""

    def __init__(self, app, broker: Broker, instance: Path) -> None:
        settings = app.config["FIELDCHECK"]
        self.env = os.environ | {
            "FIELDCHECK_DATABASE_URL": settings.database_url,
            "FIELDCHECK_STORAGE_URL": settings.storage_url,
            "FIELDCHECK_SECRET_KEY": settings.secret_key,
            "FIELDCHECK_DATA_KEY": base64.b64encode(settings.data_key).decode(),
            "FIELDCHECK_INSTANCE_PATH": str(instance),
            "FIELDCHECK_BROKER_URL": broker.url,
        }
        self.log = instance / "worker.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> float:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "worker", "--beat", "--concurrency", "1"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return time.monotonic()

    def signal(self, signum: int) -> None:
        os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.signal(signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def stack(app, tmp_path) -> Iterator[tuple[Broker, Worker]]:
    """A private broker the app sends to, and a worker process on it; both gone afterwards."""
    broker = Broker(tmp_path)
    broker.start()
    suite_celery = app.extensions["fieldcheck.celery"]
    # Only for sending by name: the API rings this broker's doorbell while the test runs.
    app.extensions["fieldcheck.celery"] = Celery("faults", broker=broker.url, set_as_current=False)
    worker = Worker(app, broker, tmp_path)
    worker.start()
    try:
        yield broker, worker
    finally:
        worker.kill()
        app.extensions["fieldcheck.celery"] = suite_celery
        if broker.process.poll() is None:
            broker.stop()


def _open_transactions(app) -> int:
    """Backends of this database, other than the asking one, inside a transaction."""
    with app.app_context():
        query = text(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
        )
        return db.session().scalar(query)


def _stop_between_transactions(app, worker: Worker) -> None:
    """SIGSTOP the worker at a moment it has no transaction open.

    A beat duty stopped inside one may hold the audit log's head, and every request the test then
    makes would wait on it until the worker runs again.
    """
    deadline = time.monotonic() + 30
    while True:
        worker.signal(signal.SIGSTOP)
        if not _open_transactions(app):
            return
        worker.signal(signal.SIGCONT)
        assert time.monotonic() < deadline, "the worker never left its transactions"
        time.sleep(0.05)


def _checkin(app, checkin_id: str) -> Checkin:
    with app.app_context():
        return db.session().get(Checkin, checkin_id)


def _decided_at(app, checkin_id: str) -> float | None:
    """Monotonic time when the check-in was seen decided, or None."""
    return time.monotonic() if _checkin(app, checkin_id).state in DECIDED else None


def _send(phone: Api, seed: int) -> str:
    challenge = new_challenge(phone)
    response = submit(phone, challenge, genuine_session("obama3.jpg", actions_of(challenge), seed=seed))
    assert response.status_code == 202, response.text
    return response.json()["id"]


def _verdict_entries(app, checkin_id: str) -> int:
    with app.app_context():
        return db.session().scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.object_id == checkin_id,
                AuditEntry.action.in_([f"checkin.{state.value}" for state in DECIDED]),
            )
        )


def test_a_worker_killed_mid_task_is_replaced_and_the_check_in_decided_within_30_s(app, api, world, stack):
    _broker, worker = stack
    _person, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    sent = [_send(phone, seed) for seed in (1, 2, 3)]
    in_flight = wait_for(
        lambda: next((c for c in sent if _checkin(app, c).state == CheckinState.PROCESSING), None),
        timeout=60,
        interval=0.02,
    )
    worker.kill()

    started = worker.start()
    recovery = wait_for(lambda: _decided_at(app, in_flight), timeout=90, interval=0.2) - started
    finished = [wait_for(lambda c=c: _decided_at(app, c), timeout=90, interval=0.2) for c in sent]
    print(
        f"kill -9 mid-task: the check-in in flight decided {recovery:.1f} s after a new worker started, "
        f"all {len(sent)} (one worker process) after {max(finished) - started:.1f} s"
    )
    assert recovery < RECOVERY_SECONDS
    assert _checkin(app, in_flight).attempts == 2
    # Decided once each: one verdict entry, though the killed attempt's message was redelivered too.
    assert [_verdict_entries(app, c) for c in sent] == [1, 1, 1]


def test_uploads_are_accepted_while_the_broker_is_down_and_decided_after_it_returns(app, api, world, stack):
    broker, _worker = stack
    _person, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    broker.stop()
    down_at = time.monotonic()
    checkin_id = _send(phone, 4)
    assert _checkin(app, checkin_id).state == CheckinState.RECEIVED
    time.sleep(max(0.0, 25 - (time.monotonic() - down_at)))
    broker.start()
    back = time.monotonic()
    decided = wait_for(lambda: _decided_at(app, checkin_id), timeout=90, interval=0.2)
    print(f"broker down {back - down_at:.0f} s: check-in decided {decided - back:.1f} s after it returned")
    assert decided - back < RECOVERY_SECONDS
    assert _checkin(app, checkin_id).state == CheckinState.VERIFIED


def test_storage_unreadable_then_readable_keeps_the_lease_and_decides_within_30_s(app, api, world, stack):
    _broker, worker = stack
    _person, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    objects = Path(app.config["FIELDCHECK"].storage_url.removeprefix("file://"))
    away = objects.with_name("objects-away")
    _stop_between_transactions(app, worker)
    try:
        checkin_id = _send(phone, 5)
        shutil.move(objects, away)
    finally:
        worker.signal(signal.SIGCONT)
    try:
        # The worker meets unreadable frames and keeps retrying its own attempt.
        wait_for(lambda: "RetryOwnWork" in worker.log.read_text(errors="replace"), timeout=60, interval=0.2)
        time.sleep(10)
        assert _checkin(app, checkin_id).state == CheckinState.PROCESSING
    finally:
        shutil.move(away, objects)
    back = time.monotonic()
    decided = wait_for(lambda: _decided_at(app, checkin_id), timeout=60, interval=0.2)
    print(f"storage unreadable then readable: check-in decided {decided - back:.1f} s after it returned")
    assert decided - back < RECOVERY_SECONDS
    checkin = _checkin(app, checkin_id)
    assert (checkin.state, checkin.attempts) == (CheckinState.VERIFIED, 1)


@pytest.fixture
def restartable(app, tmp_path) -> Iterator[tuple[object, PrivatePostgres, Api, dict[str, str]]]:
    """The app, its worker process and a private broker, all on a private PostgreSQL server."""
    suite_celery = app.extensions["fieldcheck.celery"]
    postgres = PrivatePostgres()
    broker = Broker(tmp_path)
    worker = None
    try:
        postgres.start()
        postgres.create_database()
        broker.start()
        private = create_app(make_settings(tmp_path / "instance", database_url=postgres.url, broker_url=broker.url))
        with private.app_context():
            migrate.upgrade(db.engine())
        world = seed_world(private)
        worker = Worker(private, broker, tmp_path)
        worker.start()
        with served(private) as url:
            yield private, postgres, Api(url), world
    finally:
        # Building an app makes its Celery the process's default, which the suite's own worker runs
        # its tasks with: give the suite its own back, or later tasks would look for this server.
        suite_celery.set_default()
        suite_celery.set_current()
        if worker:
            worker.kill()
        if broker.process and broker.process.poll() is None:
            broker.stop()
        postgres.stop()
        postgres.remove()


def test_a_postgresql_restart_mid_task_loses_no_accepted_check_in(restartable):
    app, postgres, api, world = restartable
    _person, phone = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    accepted = [_send(phone, 6)]
    wait_for(lambda: _checkin(app, accepted[0]).state == CheckinState.PROCESSING, timeout=60, interval=0.02)

    postgres.stop()
    down = phone.post("/api/v1/checkin-challenges", json={})
    # Refused plainly, to be tried again: not a server error, and nothing half-stored to lose.
    assert down.status_code == 503, down.text
    assert down.json()["errors"] == {"_": ["database_unavailable"]}
    assert down.headers["Retry-After"]
    postgres.start()
    back = time.monotonic()
    # The pool's connections died with the server: the first request after it returns is served.
    accepted.append(_send(phone, 7))

    finished = [wait_for(lambda c=c: _decided_at(app, c), timeout=90, interval=0.2) for c in accepted]
    print(f"PostgreSQL stopped mid-task and started: all accepted check-ins decided {max(finished) - back:.1f} s after")
    assert max(finished) - back < RECOVERY_SECONDS
    assert [_checkin(app, c).state for c in accepted] == [CheckinState.VERIFIED, CheckinState.VERIFIED]
    assert [_verdict_entries(app, c) for c in accepted] == [1, 1]
