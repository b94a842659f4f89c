"""Work rows (photos to encode, check-ins to verify, jobs to run) handed to workers under a lease.

A row moves `received → processing` (a job: `queued → running`) by a conditional update that also
bumps `attempts`; only the holder of that attempt may finish it, and a row whose lease has expired
(its worker died) can be claimed again. Duplicate or redelivered task messages therefore do no harm.

Leases are short and renewed by a heartbeat while the holder works (`renew`), so a worker killed
mid-task frees its row within one lease, not minutes later. A task retrying its own work after a
transient failure passes its attempt back to `claim` (`reclaim=`) and keeps the row instead of
meeting its own live lease.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from server.db import LEASE_CLAIM, commit_early, unit_of_work
from server.models import utcnow

log = logging.getLogger(__name__)
RECEIVED = "received"
PROCESSING = "processing"


class RetryOwnWork(Exception):
    """A transient failure (storage unreadable) while holding a lease: the task retries with `reclaim=attempt`."""

    def __init__(self, attempt: int) -> None:
        super().__init__(f"attempt {attempt} will retry")
        self.attempt = attempt


def claim(
    session: Session,
    model: Any,
    row_id: uuid.UUID,
    lease_seconds: int,
    *,
    reclaim: int | None = None,
    waiting: str = RECEIVED,
    working: str = PROCESSING,
) -> int | None:
    """Take a row if nobody holds a live lease on it; returns the attempt number. Commits at once.

    With `reclaim`, a task retrying its own attempt keeps that attempt and renews its lease, unless
    another attempt has taken the row meanwhile (then None: that one decides).
    """
    if reclaim is not None:
        kept = renew(session, model, row_id, reclaim, lease_seconds, working=working)
        commit_early(session, LEASE_CLAIM)
        return reclaim if kept else None
    now = utcnow()
    claimable = (model.state == waiting) | ((model.state == working) & (model.lease_expires_at < now))
    attempt = session.execute(
        update(model)
        .where(model.id == row_id, claimable)
        .values(state=working, attempts=model.attempts + 1, lease_expires_at=now + timedelta(seconds=lease_seconds))
        .returning(model.attempts)
    ).scalar_one_or_none()
    commit_early(session, LEASE_CLAIM)
    return attempt


def renew(
    session: Session, model: Any, row_id: uuid.UUID, attempt: int, lease_seconds: int, *, working: str = PROCESSING
) -> bool:
    """Extend this attempt's lease (the heartbeat); False if another attempt took the row. Flushes only."""
    renewed = session.execute(
        update(model)
        .where(model.id == row_id, model.state == working, model.attempts == attempt)
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    ).rowcount
    return renewed == 1


@contextmanager
def heartbeat(
    session: Session, model: Any, row_id: uuid.UUID, attempt: int, lease_seconds: int, *, working: str = PROCESSING
) -> Iterator[None]:
    """Renew the lease every third of its length while the block runs, from a thread with its own
    connection, so a lease can be short (a dead worker's row is free soon) and long work still keeps it."""
    engine = session.get_bind()
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(lease_seconds / 3):
            try:
                with Session(engine) as own, unit_of_work(own):
                    if not renew(own, model, row_id, attempt, lease_seconds, working=working):
                        return
            except SQLAlchemyError:
                # The database may be back before the lease runs out; the next beat tries again.
                log.warning("could not renew the lease on %s %s", model.__tablename__, row_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"lease-{row_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def finish(
    session: Session, model: Any, row_id: uuid.UUID, attempt: int, *, working: str = PROCESSING, **values: Any
) -> bool:
    """Set the outcome if this attempt still holds the lease; the caller's unit of work commits."""
    finished = session.execute(
        update(model)
        .where(model.id == row_id, model.state == working, model.attempts == attempt)
        .values(lease_expires_at=None, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    return finished == 1


def stale(
    session: Session,
    model: Any,
    *,
    received_before: datetime,
    waiting: str = RECEIVED,
    working: str = PROCESSING,
) -> list[uuid.UUID]:
    """Rows whose task message was lost (still waiting) or whose worker died (lease expired)."""
    now = utcnow()
    return list(
        session.scalars(
            select(model.id).where(
                or_(
                    (model.state == waiting) & (model.created_at < received_before),
                    (model.state == working) & (model.lease_expires_at < now),
                )
            )
        )
    )
