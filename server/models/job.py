"""Background jobs: long work (an import) a caller starts, then polls; the row is the truth."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, Timestamps, UUIDPrimaryKey, enum_column


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(UUIDPrimaryKey, Timestamps, Base):
    """One job: its input (an encrypted object), progress committed with each batch, and its outcome.

    `cursor` is the number of input items already done and committed, so a worker that dies loses at
    most the batch it was in; the next holder of the lease resumes from there.
    """

    __tablename__ = "job"

    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[JobState] = mapped_column(enum_column(JobState), default=JobState.QUEUED, index=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"))
    # The creator's region: only staff whose scope covers it see the job.
    region_code: Mapped[str] = mapped_column(String(12))
    params: Mapped[dict[str, Any]]
    input_key: Mapped[str | None] = mapped_column(String(200))
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None]
    cursor: Mapped[int] = mapped_column(default=0)
    # Running totals and the failed items, committed with each batch.
    result: Mapped[dict[str, Any]]
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_expires_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
