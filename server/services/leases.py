"""Work rows (photos to encode, check-ins to verify) handed to workers under a lease.

A row moves `received → processing` by a conditional update that also bumps `attempts`; only the
holder of that attempt may finish it, and a row whose lease has expired (its worker died) can be
claimed again. Duplicate or redelivered task messages therefore do no harm.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from server.db import LEASE_CLAIM, commit_early
from server.models import utcnow

RECEIVED = "received"
PROCESSING = "processing"


def claim(session: Session, model: Any, row_id: uuid.UUID, lease_seconds: int) -> int | None:
    """Take a row if nobody holds a live lease on it; returns the attempt number. Commits at once."""
    now = utcnow()
    claimable = (model.state == RECEIVED) | ((model.state == PROCESSING) & (model.lease_expires_at < now))
    attempt = session.execute(
        update(model)
        .where(model.id == row_id, claimable)
        .values(state=PROCESSING, attempts=model.attempts + 1, lease_expires_at=now + timedelta(seconds=lease_seconds))
        .returning(model.attempts)
    ).scalar_one_or_none()
    commit_early(session, LEASE_CLAIM)
    return attempt


def finish(session: Session, model: Any, row_id: uuid.UUID, attempt: int, **values: Any) -> bool:
    """Set the outcome if this attempt still holds the lease; the caller's unit of work commits."""
    finished = session.execute(
        update(model)
        .where(model.id == row_id, model.state == PROCESSING, model.attempts == attempt)
        .values(lease_expires_at=None, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    return finished == 1


def stale(session: Session, model: Any, *, received_before: datetime) -> list[uuid.UUID]:
    """Rows whose task message was lost (still received) or whose worker died (lease expired)."""
    now = utcnow()
    return list(
        session.scalars(
            select(model.id).where(
                or_(
                    (model.state == RECEIVED) & (model.created_at < received_before),
                    (model.state == PROCESSING) & (model.lease_expires_at < now),
                )
            )
        )
    )
