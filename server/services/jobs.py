"""Background jobs: a caller uploads, a worker task does the work in batches, the caller polls.

The job row is the truth. Its input is an encrypted object; each batch is one unit of work that
commits its changes together with the job's `cursor`, running totals and lease renewal, so a worker
that dies loses only the batch it was in and the next holder of the lease (the requeue duty hands it
out again) resumes after the last commit.
What a kind does per batch must be idempotent as a whole batch: it is redone after a crash.

A kind (`JobKind`) reads the input into items and processes a batch of them into one result per
item; the per-item results are kept as one encrypted object per batch and joined for `result`.
"""

from __future__ import annotations

import itertools
import json
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select

from server.context import Ctx
from server.db import unit_of_work
from server.models import Job, JobState, StaffUser, utcnow
from server.services import biometrics, leases
from server.services.audit import Actor, record
from server.services.errors import DomainError, NotFound
from server.services.regions import in_scope
from storage import StorageError

log = logging.getLogger(__name__)
RUN_TASK = "fieldcheck.run_job"
MAX_ATTEMPTS = 5
QUEUED, RUNNING = JobState.QUEUED.value, JobState.RUNNING.value


class JobKind(Protocol):
    """What one kind of job does; `params` are the JSON the job was created with."""

    batch_size: int

    def check(self, data: bytes, params: Mapping[str, Any]) -> None:
        """Refuse an input that cannot be processed at all (a wrong header), before it is stored."""

    def items(self, data: bytes, params: Mapping[str, Any]) -> Iterator[Any]:
        """The input's items, in a stable order (the cursor counts them)."""

    def count(self, data: bytes, params: Mapping[str, Any]) -> int:
        """How many items `items` yields, cheaply (for progress)."""

    def process(self, ctx: Ctx, actor: Actor, params: Mapping[str, Any], batch: list[Any]) -> list[dict[str, Any]]:
        """Do one batch in the batch's unit of work; one JSON result with a `status` per item. Flushes only."""


class _LeaseLost(Exception):
    """Another attempt holds the job now: this batch's unit rolls back and that attempt carries on."""


@dataclass(frozen=True)
class Progress:
    done: int
    total: int | None


def _input_key(job_id: uuid.UUID) -> str:
    return f"jobs/{job_id}/input"


def _rows_key(job_id: uuid.UUID, start: int) -> str:
    return f"jobs/{job_id}/rows/{start:09d}"


def create_job(
    ctx: Ctx,
    *,
    actor: Actor,
    kinds: Mapping[str, JobKind],
    kind: str,
    data: bytes,
    params: dict[str, Any],
) -> Job:
    """Check and store the input (encrypted, like every personal record), then the queued job. Flushes;
    the caller's unit of work commits, then the caller enqueues `RUN_TASK` (and discards the input with
    `discard_input` should the commit fail)."""
    kinds[kind].check(data, params)
    job = Job(
        id=uuid.uuid4(),
        kind=kind,
        created_by=uuid.UUID(actor.id),
        region_code=actor.region_code,
        # Kept with the job: the per-batch result objects are named by the batches' starts.
        params={**params, "batch_size": kinds[kind].batch_size},
        result={"counts": {}},
    )
    job.input_key = _input_key(job.id)
    biometrics.put(ctx, key=job.input_key, data=data)
    try:
        ctx.session.add(job)
        record(
            ctx.session,
            actor=actor,
            action="job.created",
            object_type="job",
            object_id=job.id,
            region_code=actor.region_code,
            details={"kind": kind, "bytes": len(data)},
        )
        ctx.session.flush()
    except BaseException:
        discard_input(ctx, job=job)
        raise
    return job


def start_job(
    ctx: Ctx,
    *,
    actor: Actor,
    kinds: Mapping[str, JobKind],
    kind: str,
    data: bytes,
    params: dict[str, Any],
    ring: Callable[[str, str], object],
) -> Job:
    """`create_job` in a unit of work of its own, then `ring(RUN_TASK, job_id)` once it has committed (the
    worker's doorbell). Call it outside a unit of work."""
    created = []
    try:
        with unit_of_work(ctx.session):
            created.append(create_job(ctx, actor=actor, kinds=kinds, kind=kind, data=data, params=params))
    except Exception:
        # The row never committed: its stored input would be an orphan.
        for job in created:
            discard_input(ctx, job=job)
        raise
    ring(RUN_TASK, str(created[0].id))
    return created[0]


def recent_jobs(ctx: Ctx, *, actor: Actor, kinds: Mapping[str, JobKind], limit: int) -> list[Job]:
    """The latest jobs of these kinds started in the actor's region, newest first."""
    return list(
        ctx.session.scalars(
            select(Job)
            .where(Job.kind.in_(list(kinds)), in_scope(Job.region_code, actor.region_code))
            .order_by(Job.created_at.desc(), Job.id)
            .limit(limit)
        )
    )


def discard_input(ctx: Ctx, *, job: Job) -> None:
    """Remove the stored input of a job whose row was never committed (best effort)."""
    biometrics.discard(ctx, key=job.input_key)


def get_job(ctx: Ctx, *, actor: Actor, job_id: uuid.UUID) -> Job:
    """A job started in the actor's region; any other looks missing."""
    job = ctx.session.scalar(select(Job).where(Job.id == job_id, in_scope(Job.region_code, actor.region_code)))
    if job is None:
        raise NotFound("job not found", {"job_id": ["not_found"]})
    return job


def run_job(
    ctx: Ctx,
    *,
    job_id: uuid.UUID,
    kinds: Mapping[str, JobKind],
    actor_of: Callable[[StaffUser], Actor],
    reclaim: int | None = None,
    on_batch: Callable[[Progress], None] | None = None,
) -> str:
    """Claim the job and work through it from its cursor, one unit of work per batch. Returns what happened.

    Call it outside a unit of work. Each batch renews the lease (the heartbeat); storage that cannot be
    read raises `leases.RetryOwnWork`, and the task retries with `reclaim` from the last committed batch.
    """
    session = ctx.session
    lease = ctx.settings.task_lease_seconds
    attempt = leases.claim(session, Job, job_id, lease, reclaim=reclaim, waiting=QUEUED, working=RUNNING)
    if attempt is None:
        return "not_claimable"
    job = session.get(Job, job_id)
    if attempt > MAX_ATTEMPTS:
        # Workers kept dying on this job; stop handing it out.
        return _fail(ctx, job, attempt, "too_many_attempts")
    kind = kinds[job.kind]
    actor = actor_of(session.get(StaffUser, job.created_by))
    try:
        data = biometrics.get(ctx, key=job.input_key)
        if job.total is None:
            job.total = kind.count(data, job.params)
        remaining = itertools.islice(kind.items(data, job.params), job.cursor, None)
        while batch := list(itertools.islice(remaining, job.params["batch_size"])):
            # The batch, its progress and the heartbeat commit together: all or nothing.
            with unit_of_work(session):
                results = kind.process(ctx, actor, job.params, batch)
                biometrics.put(ctx, key=_rows_key(job.id, job.cursor), data=json.dumps(results, default=str).encode())
                counts = Counter(job.result.get("counts", {}))
                counts.update(r["status"] for r in results)
                job.result = {**job.result, "counts": dict(counts)}
                job.cursor += len(batch)
                job.done = job.cursor
                if not leases.renew(session, Job, job.id, attempt, lease, working=RUNNING):
                    raise _LeaseLost
            if on_batch:
                on_batch(Progress(job.done, job.total))
        with unit_of_work(session):
            if not leases.finish(
                session, Job, job.id, attempt, working=RUNNING, state=JobState.DONE, finished_at=utcnow()
            ):
                raise _LeaseLost
            record(
                session,
                actor=actor,
                action="job.done",
                object_type="job",
                object_id=job.id,
                region_code=job.region_code,
                details={"kind": job.kind, "counts": job.result["counts"]},
            )
    except _LeaseLost:
        return "lease_lost"
    except StorageError as exc:
        raise leases.RetryOwnWork(attempt) from exc
    except DomainError as exc:
        return _fail(ctx, session.get(Job, job_id), attempt, exc.message)
    return "done"


def _fail(ctx: Ctx, job: Job, attempt: int, error: str) -> str:
    try:
        with unit_of_work(ctx.session):
            if not leases.finish(
                ctx.session, Job, job.id, attempt, working=RUNNING, state=JobState.FAILED, error=error
            ):
                raise _LeaseLost
            record(
                ctx.session,
                actor=Actor.system(),
                action="job.failed",
                object_type="job",
                object_id=job.id,
                region_code=job.region_code,
                reason=error,
            )
    except _LeaseLost:
        return "lease_lost"
    return "failed"


def job_view(job: Job) -> dict[str, Any]:
    """The polling answer: `GET /api/v1/jobs/{id}`."""
    return {
        "id": job.id,
        "kind": job.kind,
        "state": JobState(job.state),
        "done": job.done,
        "total": job.total,
        "result_url": f"/api/v1/jobs/{job.id}/result" if job.state == JobState.DONE else None,
        "error": job.error,
    }


def job_result(ctx: Ctx, *, job: Job) -> dict[str, Any]:
    """Counts per status and every item's result, in input order, once the job is done."""
    if job.state != JobState.DONE:
        raise DomainError.field("job_id", "not_done", "the job has not finished")
    rows: list[dict[str, Any]] = []
    for start in range(0, job.cursor, job.params["batch_size"]):
        try:
            rows.extend(json.loads(biometrics.get(ctx, key=_rows_key(job.id, start))))
        except StorageError:
            log.error("job %s: results of the batch at %d are unreadable", job.id, start)
            raise
    return {"counts": job.result.get("counts", {}), "rows": rows}
