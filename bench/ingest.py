"""Check-in intake under open-loop load: the real service against a bare multipart endpoint, same run.

Seeds a scratch PostgreSQL database with one village of beneficiaries, activates a phone for each
(the real activation service) and gives every phone single-use challenges (inserted in SQL: issuing
thousands through the API would time the seeding). It then starts `fieldcheck serve` (gunicorn
sync workers, Redis as the broker: the task is sent, no worker takes it) and, beside it, the same
gunicorn serving a bare Flask endpoint that only reads the uploaded files. A load generator in its
own process sends each the same multipart bodies (5 JPEG frames of 640×480 unless told, built once; only the
metadata part differs per request):

- saturation: a closed loop of C connections for D seconds, submissions answered per second;
- latency: an open loop at R requests/s for D seconds, p50/p99 measured from each request's
  scheduled send time (a late send counts as waiting, as a phone's would).

Each server is warmed up first (a closed loop of two connections per worker for a few seconds): a
worker's first requests import what the app loads lazily, seconds on a busy machine, which is
start-up, not intake. Beside each figure, the CPU time the server's processes (and, for the service,
the PostgreSQL backends serving its database) spent per answered request, read from /proc: unlike
the rates, it hardly depends on what else the machine runs, and two cores divided by it is the rate
those two cores could reach.

The bare endpoint is the ceiling: if it does not answer well above the service, the generator
itself is the bottleneck. The database, the objects and the bench's Redis queue are dropped after.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import multiprocessing
import os
import queue
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from flask import Flask, request
from PIL import Image
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.scratch import scratch_app
from server import db
from server.context import Ctx
from server.models import Beneficiary, StaffRole
from server.services import consent, staff
from server.services.audit import Actor
from server.services.auth import activate_device, issue_activation_code, staff_actor

COUNTY = "431299"
VILLAGE = COUNTY + "001001"
# The issue's figure: 5 frames. The phone app's sessions (actions and the colour phase) send about 21.
FRAMES = 5
BOUNDARY = "fieldcheckbenchboundary"
# Enough single-use challenges for the closed loop to run its whole time at this rate.
MAX_RATE = 400
WARM_UP_SECONDS = 3.0
ROOT = Path(__file__).resolve().parents[1]


def bare_app() -> Flask:
    """The baseline: a multipart endpoint that reads the files and answers, nothing else."""
    app = Flask("bare")

    @app.post("/api/v1/checkins")
    def checkins():
        sizes = [len(upload.read()) for upload in request.files.getlist("frames")]
        json.loads(request.form["metadata"])
        return {"frames": len(sizes)}, 202

    @app.get("/api/v1")
    def index():
        return {}

    return app


def _frames(count: int) -> list[bytes]:
    """count distinct 640×480 JPEGs, about the size a phone sends (smooth content, a little noise)."""
    rng = np.random.default_rng(17)
    y, x = np.mgrid[0:480, 0:640]
    frames = []
    for k in range(count):
        base = np.stack([(x / 3 + 9 * k) % 256, (y / 2) % 256, ((x + y) / 4) % 256], axis=-1)
        rgb = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
        out = io.BytesIO()
        Image.fromarray(rgb).save(out, "JPEG", quality=70)
        frames.append(out.getvalue())
    return frames


def _files_part(frames: list[bytes]) -> bytes:
    parts = []
    for i, data in enumerate(frames):
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="frames"; filename="{i}.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _metadata_part(challenge_id: str, count: int) -> bytes:
    start = datetime.now(UTC)
    metadata = {
        "challenge_id": challenge_id,
        "client_id": uuid.uuid4().hex,
        "frames": [
            {"captured_at": (start + timedelta(seconds=0.5 * i)).isoformat(), "action": None, "colour": None}
            for i in range(count)
        ],
        "gps": None,
        "device": {"model": "bench", "os": "bench", "app_version": "bench-1"},
    }
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{json.dumps(metadata)}\r\n'
    ).encode()


@dataclass
class Result:
    answered: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return self.answered / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def _post(port: int, token: str, body: bytes) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(
            "POST",
            "/api/v1/checkins",
            body,
            {"Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        conn.close()


def drive(port: int, jobs: list[tuple[str, str]], mode: str, level: float, seconds: float, frames: int) -> Result:
    """Run one load pattern (in the generator's process): 'closed' with level connections or 'open' at level/s."""
    files = _files_part(_frames(frames))
    pending: queue.SimpleQueue = queue.SimpleQueue()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    upcoming = iter(jobs)

    def next_job() -> tuple[str, str] | None:
        with lock:
            return next(upcoming, None)

    def send(job: tuple[str, str], scheduled: float) -> None:
        token, challenge = job
        status = _post(port, token, _metadata_part(challenge, frames) + files)
        elapsed = (time.perf_counter() - scheduled) * 1000
        with lock:
            statuses[status] += 1
            latencies.append(elapsed)

    start = time.perf_counter()
    end = start + seconds
    if mode == "closed":

        def loop() -> None:
            while time.perf_counter() < end and (job := next_job()) is not None:
                send(job, time.perf_counter())

        threads = [threading.Thread(target=loop) for _ in range(int(level))]
    else:

        def worker() -> None:
            while (item := pending.get()) is not None:
                send(*item)

        threads = [threading.Thread(target=worker) for _ in range(64)]
    for thread in threads:
        thread.start()
    if mode == "open":
        for i in range(int(level * seconds)):
            scheduled = start + i / level
            time.sleep(max(0.0, scheduled - time.perf_counter()))
            job = next_job()
            if job is None:
                break
            pending.put((job, scheduled))
        for _ in threads:
            pending.put(None)
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    answered = statuses.get(202, 0)
    return Result(answered, elapsed, latencies, dict(statuses))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _cpu_seconds(*, group: int | None = None, database: str | None = None) -> float:
    """CPU time (user and system, all threads) of the processes in a process group, or of the PostgreSQL
    backends connected to `database` (their command line names it); processes that have exited are not counted."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if group is not None:
                ours = int(fields[2]) == group
            else:
                ours = f" {database} ".encode() in (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if ours:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def _wait_answering(port: int, process: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service on port {port} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port} within {timeout:.0f} s")


@contextmanager
def _running(command: list[str], env: dict[str, str], port: int):
    # Its own process group, so stopping it takes gunicorn's workers along.
    process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        _wait_answering(port, process)
        yield process.pid
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def _seed(app: Flask, devices: int, per_device: int) -> list[tuple[str, str]]:
    """Activated phones and their challenges: (token, challenge id) per submission, phones interleaved."""
    context = Ctx.current()
    session = context.session
    with db.unit_of_work(session):
        session.execute(text(f"INSERT INTO region VALUES ('{COUNTY}', 'bench county', 'county', NULL)"))
        session.execute(text(f"INSERT INTO region VALUES ('{COUNTY}001', 'bench township', 'township', '{COUNTY}')"))
        session.execute(text(f"INSERT INTO region VALUES ('{VILLAGE}', 'bench village', 'village', '{COUNTY}001')"))
        admin = staff.create_staff_user(
            context,
            actor=Actor.system(),
            username="bench-admin",
            password=secrets.token_urlsafe(16),
            role=StaffRole.ADMIN,
            region_code=COUNTY,
        )
    with db.unit_of_work(session):
        ids = [uuid.uuid4() for _ in range(devices)]
        session.add_all(
            Beneficiary(
                id=person,
                id_number=f"4312991950010{n:05d}",
                id_number_index=context.cipher.index(f"4312991950010{n:05d}"),
                id_number_masked="4312**********0000",
                name=f"bench {n}",
                program="rural_minimum_allowance",
                village_code=VILLAGE,
                monthly_amount=335,
            )
            for n, person in enumerate(ids)
        )
    tokens = {}
    for person in ids:
        with db.unit_of_work(session):
            beneficiary = session.get(Beneficiary, person)
            device, code = issue_activation_code(context, actor=staff_actor(admin), beneficiary=beneficiary, label=None)
        with db.unit_of_work(session):
            tokens[device.id] = activate_device(context, code=code, consent_version=consent.VERSION).access_token
    with db.unit_of_work(session):
        rows = session.execute(
            text(
                """INSERT INTO checkin_challenge (id, beneficiary_id, device_id, mode, nonce, actions, issued_at,
                                                  expires_at)
                   SELECT gen_random_uuid(), d.beneficiary_id, d.id, 'self', md5(random()::text || d.id || k),
                          '["blink", "nod"]', now(), now() + interval '2 hours'
                   FROM device d, generate_series(1, :k) k
                   RETURNING device_id, id"""
            ),
            {"k": per_device},
        ).all()
    session.execute(text("ANALYZE"))
    by_device: dict[uuid.UUID, list[str]] = {}
    for device_id, challenge_id in rows:
        by_device.setdefault(device_id, []).append(str(challenge_id))
    # Round-robin over the phones, as many people checking in at once would be.
    return [
        (tokens[device_id], challenges[k]) for k in range(per_device) for device_id, challenges in by_device.items()
    ]


def _purge(broker_url: str) -> None:
    from celery import Celery

    with Celery(broker=broker_url).connection_for_write() as connection:
        connection.default_channel.queue_purge("celery")


def run(
    *,
    devices: int,
    workers: int,
    rate: float,
    connections: int,
    seconds: float,
    broker_url: str,
    database_url: str,
    frames: int = FRAMES,
    echo: Callable[[str], None] = print,
) -> dict[str, float]:
    with scratch_app(database_url) as app:
        with app.app_context():
            needed = (rate + MAX_RATE) * seconds + MAX_RATE * WARM_UP_SECONDS
            jobs = _seed(app, devices, -(-int(needed) // devices))
        settings = app.config["FIELDCHECK"]
        env = os.environ | {
            "FIELDCHECK_INSTANCE_PATH": str(settings.instance_path),
            "FIELDCHECK_DATABASE_URL": settings.database_url,
            "FIELDCHECK_STORAGE_URL": settings.storage_url,
            "FIELDCHECK_BROKER_URL": broker_url,
            "FIELDCHECK_SECRET_KEY": settings.secret_key,
            "FIELDCHECK_DATA_KEY": base64.b64encode(settings.data_key).decode(),
        }
        service_port, bare_port = _free_port(), _free_port()
        serve = [sys.executable, "-m", "server.cli", "serve", "--workers", str(workers), "--port", str(service_port)]
        gunicorn = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{bare_port}"]
        echo(
            f"{devices} phones, {len(jobs):,} challenges, {frames} frames each; {workers} gunicorn sync workers;"
            f" {os.cpu_count()} cores"
        )
        generator = multiprocessing.get_context("spawn").Pool(1)
        figures: dict[str, float] = {}
        try:
            with (
                _running(serve, env, service_port) as service_group,
                _running([*gunicorn, "bench.ingest:bare_app()"], env, bare_port) as bare_group,
            ):
                database = make_url(settings.database_url).database
                servers = {"bare": (bare_port, bare_group, None), "fieldcheck": (service_port, service_group, database)}
                reserved = int(rate * seconds) + 1
                warm_up = int(MAX_RATE * WARM_UP_SECONDS)
                shares = {
                    "open": jobs[:reserved],
                    "warm": jobs[reserved : reserved + warm_up],
                    "closed": jobs[reserved + warm_up :],
                }
                for port, _group, _database in servers.values():
                    generator.apply(drive, (port, shares["warm"], "closed", 2 * workers, WARM_UP_SECONDS, frames))
                plan = [("bare", "closed", connections), ("fieldcheck", "closed", connections)]
                plan += [("bare", "open", rate), ("fieldcheck", "open", rate)]
                for name, mode, level in plan:
                    port, group, database_name = servers[name]
                    before = _cpu_seconds(group=group), _cpu_seconds(database=database_name) if database_name else 0.0
                    result = generator.apply(drive, (port, shares[mode], mode, level, seconds, frames))
                    after = _cpu_seconds(group=group), _cpu_seconds(database=database_name) if database_name else 0.0
                    answered = max(1, result.answered)
                    cpu_ms, pg_ms = ((a - b) * 1000 / answered for a, b in zip(after, before, strict=True))
                    others = {s: n for s, n in result.statuses.items() if s != 202}
                    label = f"{connections} connections" if mode == "closed" else f"{rate:g}/s open loop"
                    p50, p99 = result.percentile(0.5), result.percentile(0.99)
                    extra = f"  other statuses {others}" if others else ""
                    cpu = f"CPU {cpu_ms:5.1f} ms" + (f" + PostgreSQL {pg_ms:4.1f} ms" if database_name else "")
                    echo(
                        f"{name:<11} {label:<20} {result.rate:7.1f}/s answered 202,"
                        f" p50 {p50:6.1f} ms, p99 {p99:6.1f} ms; {cpu} per request{extra}"
                    )
                    key = f"{name}_{mode}"
                    figures[f"{key}_rate"] = result.rate
                    figures[f"{key}_p50"] = result.percentile(0.5)
                    figures[f"{key}_p99"] = result.percentile(0.99)
                    figures[f"{key}_cpu_ms"] = cpu_ms
                    figures[f"{key}_pg_ms"] = pg_ms
        finally:
            generator.close()
            generator.join()
            _purge(broker_url)
        service, bare = figures["fieldcheck_closed_rate"], figures["bare_closed_rate"]
        echo(
            f"saturation: {service:.1f} submissions/s, bare multipart baseline {bare:.1f}/s"
            f" (ratio {bare / service:.1f}×; target ≥ 150/s)"
        )
        echo(
            f"at {rate:g}/s: p50 {figures['fieldcheck_open_p50']:.1f} ms, p99 {figures['fieldcheck_open_p99']:.1f} ms"
            f" (bare p99 {figures['bare_open_p99']:.1f} ms; target p99 < 150 ms)"
        )
        spent = figures["fieldcheck_closed_cpu_ms"] + figures["fieldcheck_closed_pg_ms"]
        echo(
            f"CPU per submission: service {figures['fieldcheck_closed_cpu_ms']:.1f} ms + PostgreSQL"
            f" {figures['fieldcheck_closed_pg_ms']:.1f} ms (backends; WAL writer and checkpointer not counted):"
            f" two idle cores would answer at most {2000 / spent:.0f}/s"
        )
        return figures
