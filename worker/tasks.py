"""Tasks. Each one re-reads the database and changes state only through a conditional update,
so a duplicate or redelivered message does no harm."""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict
from datetime import timedelta

from celery import Task, shared_task

from server import db
from server.context import Ctx
from server.models import Checkin, EnrolmentPhoto, Job, JobState, utcnow
from server.queue import enqueue
from server.services import (
    checkins,
    cycles,
    duplicate_registrations,
    enrolment,
    imports,
    jobs,
    leases,
    reminders,
    retention,
    sweep,
    verification,
)
from server.services.auth import staff_actor

log = logging.getLogger(__name__)
# A row still waiting this long after upload has lost its message (the broker was down when it came).
RECEIVED_GRACE = timedelta(seconds=20)
# Storage that cannot be read is retried every few seconds for about two minutes, keeping the lease;
# after that the row's lease runs out and the requeue duty starts a new attempt.
MAX_RETRY_SECONDS = 4
MAX_OWN_RETRIES = 30
# (model, task, waiting state, working state) of every kind of leased work.
REQUEUED_WORK = (
    (EnrolmentPhoto, enrolment.ENCODE_TASK, leases.RECEIVED, leases.PROCESSING),
    (Checkin, checkins.VERIFY_TASK, leases.RECEIVED, leases.PROCESSING),
    (Job, jobs.RUN_TASK, JobState.QUEUED.value, JobState.RUNNING.value),
)


def _retry_own_work(task: Task, exc: leases.RetryOwnWork) -> Exception:
    """Retry soon with the same attempt, which keeps the row's lease (storage came back, or will)."""
    countdown = min(2**task.request.retries, MAX_RETRY_SECONDS)
    return task.retry(kwargs={"reclaim": exc.attempt}, countdown=countdown, max_retries=MAX_OWN_RETRIES, exc=exc)


@shared_task(name=enrolment.ENCODE_TASK, bind=True)
def encode_enrolment_photo(self: Task, photo_id: str, reclaim: int | None = None) -> str:
    """Derive the face template of one enrolment photo and check it for duplicates."""
    ctx = Ctx.current()
    try:
        with db.unit_of_work(ctx.session):
            outcome = enrolment.encode_photo(ctx, photo_id=uuid.UUID(photo_id), reclaim=reclaim)
    except leases.RetryOwnWork as exc:
        raise _retry_own_work(self, exc) from exc
    log.info("enrolment photo %s: %s", photo_id, outcome)
    return outcome


@shared_task(name=checkins.VERIFY_TASK, bind=True)
def verify_checkin(self: Task, checkin_id: str, reclaim: int | None = None) -> str:
    """Decide one check-in: liveness, identity, replay and match."""
    ctx = Ctx.current()
    try:
        with db.unit_of_work(ctx.session):
            outcome = verification.verify_checkin(ctx, checkin_id=uuid.UUID(checkin_id), reclaim=reclaim)
    except leases.RetryOwnWork as exc:
        raise _retry_own_work(self, exc) from exc
    log.info("check-in %s: %s", checkin_id, outcome)
    return outcome


@shared_task(name=jobs.RUN_TASK, bind=True)
def run_job(self: Task, job_id: str, reclaim: int | None = None) -> str:
    """Work through a job (an import) in committed batches, resuming where the last holder stopped."""
    try:
        # Outside a unit of work: the job commits one unit per batch.
        outcome = jobs.run_job(
            Ctx.current(),
            job_id=uuid.UUID(job_id),
            kinds=imports.KINDS,
            actor_of=staff_actor,
            reclaim=reclaim,
        )
    except leases.RetryOwnWork as exc:
        raise _retry_own_work(self, exc) from exc
    log.info("job %s: %s", job_id, outcome)
    return outcome


@shared_task(name="fieldcheck.requeue_stale_work")
def requeue_stale_work() -> int:
    """Send again the work whose message was lost or whose worker died (an expired lease)."""
    received_before = utcnow() - RECEIVED_GRACE
    session = Ctx.current().session
    requeued = 0
    for model, task_name, waiting, working in REQUEUED_WORK:
        for row_id in leases.stale(session, model, received_before=received_before, waiting=waiting, working=working):
            enqueue(task_name, str(row_id))
            requeued += 1
    if requeued:
        log.info("requeued %d stale work items", requeued)
    return requeued


@shared_task(name="fieldcheck.sweep_missed_checkins")
def sweep_missed_checkins() -> int:
    """Open missed_checkin cases for every cycle whose grace period has ended; idempotent."""
    ctx = Ctx.current()
    zone = cycles.office_zone(ctx.settings)
    with db.unit_of_work(ctx.session):
        result = sweep.sweep(ctx, today=cycles.local_today(zone), zone=zone)
    if result.opened:
        log.info("sweep opened %d missed_checkin cases in %d cycles", result.total, len(result.opened))
    return result.total


@shared_task(name="fieldcheck.open_duplicate_registration_cases")
def open_duplicate_registration_cases() -> int:
    """Open the county's review case for every held duplicate registration that has none; idempotent."""
    ctx = Ctx.current()
    with db.unit_of_work(ctx.session):
        opened = duplicate_registrations.open_cases(ctx)
    if opened:
        log.info("opened %d duplicate_registration cases", opened)
    return opened


@shared_task(name="fieldcheck.send_reminders")
def send_reminders() -> int:
    """Queue today's reminder steps and deliver what is pending; idempotent per person, cycle and step.
    The service opens a unit of work per delivery batch."""
    ctx = Ctx.current()
    settings = ctx.settings
    zone = cycles.office_zone(settings)
    run = reminders.run_reminders(
        ctx,
        today=cycles.local_today(zone),
        zone=zone,
        sender=reminders.sender_from_settings(settings.reminders),
    )
    log.info("reminders: sent %d, failed %d, retrying %d", run.sent, run.failed, run.retrying)
    return run.sent


@shared_task(name="fieldcheck.purge_expired_biometrics")
def purge_expired_biometrics() -> dict:
    """Remove check-in frames, visit photos and enrolment photos past their retention; one audit entry."""
    ctx = Ctx.current()
    zone = cycles.office_zone(ctx.settings)
    with db.unit_of_work(ctx.session):
        result = retention.purge(ctx, now=utcnow(), today=cycles.local_today(zone))
    log.info("retention: %s", result)
    return asdict(result)
