"""Tasks. Each one re-reads the database and changes state only through a conditional update,
so a duplicate or redelivered message does no harm."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy import or_, select

from server import db
from server.models import EnrolmentPhoto, PhotoState, utcnow
from server.queue import enqueue
from server.services import enrolment
from storage import StorageError

log = logging.getLogger(__name__)
# A row still in `received` this long after upload has lost its message.
RECEIVED_GRACE = timedelta(seconds=60)


@shared_task(
    name=enrolment.ENCODE_TASK,
    autoretry_for=(StorageError,),
    retry_backoff=5,
    retry_jitter=True,
    max_retries=enrolment.MAX_ENCODE_ATTEMPTS,
)
def encode_enrolment_photo(photo_id: str) -> str:
    """Derive the face template of one enrolment photo and check it for duplicates."""
    settings = current_app.config["FIELDCHECK"]
    outcome = enrolment.encode_photo(
        db.session(), current_app.extensions["fieldcheck.store"], settings, uuid.UUID(photo_id)
    )
    log.info("enrolment photo %s: %s", photo_id, outcome)
    return outcome


@shared_task(name="fieldcheck.requeue_stale_work")
def requeue_stale_work() -> int:
    """Send again the work whose message was lost or whose worker died (an expired lease)."""
    now = utcnow()
    stale = (
        db.session()
        .scalars(
            select(EnrolmentPhoto.id).where(
                or_(
                    (EnrolmentPhoto.state == PhotoState.RECEIVED) & (EnrolmentPhoto.created_at < now - RECEIVED_GRACE),
                    (EnrolmentPhoto.state == PhotoState.PROCESSING) & (EnrolmentPhoto.lease_expires_at < now),
                )
            )
        )
        .all()
    )
    for photo_id in stale:
        enqueue(enrolment.ENCODE_TASK, str(photo_id))
    if stale:
        log.info("requeued %d enrolment photos", len(stale))
    return len(stale)
