"""Check-in cycles and what satisfies them besides a check-in: exemptions and imported evidence;
and the reminders sent before a cycle's deadline."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, Timestamps, UUIDPrimaryKey, enum_column
from server.models.beneficiary import Program


class CycleFrequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class Cycle(UUIDPrimaryKey, Timestamps, Base):
    """A check-in period for everyone whose village code starts with `region_code` (and in `program`,
    or in every programme when it is NULL). Sweeping starts after deadline + grace_days."""

    __tablename__ = "cycle"
    __table_args__ = (
        # NULLS NOT DISTINCT (PostgreSQL 15+): one all-programme cycle per region and opening day too.
        UniqueConstraint("region_code", "program", "opens_on", postgresql_nulls_not_distinct=True),
    )

    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    program: Mapped[Program | None] = mapped_column(enum_column(Program))
    frequency: Mapped[CycleFrequency] = mapped_column(enum_column(CycleFrequency))
    opens_on: Mapped[date]
    deadline: Mapped[date] = mapped_column(index=True)
    grace_days: Mapped[int] = mapped_column(default=15)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"))
    # Set by the sweep that opened this cycle's missed-check-in cases, so later runs skip it.
    swept_at: Mapped[datetime | None]
    # The last day of the latest deadline an exemption moved (cycles.moved_days); until it has passed,
    # each sweep looks again at the people whose deadline moved. None when nobody's did.
    moved_until: Mapped[date | None]

    @property
    def closes_on(self) -> date:
        """The last day a check-in still counts; the sweep runs the day after."""
        return self.deadline + timedelta(days=self.grace_days)


class ExemptionKind(StrEnum):
    # Concentrated support in an institution, confirmed by its staff.
    INSTITUTION_CARE = "institution_care"
    HOSPITALISATION = "hospitalisation"
    # Approved temporary absence for work, 3 to 12 months.
    WORK_ABSENCE = "work_absence"


class Exemption(UUIDPrimaryKey, Timestamps, Base):
    """An approved reason not to check in: it satisfies a cycle whose deadline it covers, and moves the
    person's deadline in a cycle where it ends before the deadline (server.services.cycles.moved_days)."""

    __tablename__ = "exemption"

    beneficiary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    kind: Mapped[ExemptionKind] = mapped_column(enum_column(ExemptionKind))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    # The review case whose decision granted it, when there was one.
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("review_case.id"))


class CycleEvidence(UUIDPrimaryKey, Timestamps, Base):
    """Proof of life from another source (a hospital, a bank, a pension office), imported for a cycle."""

    __tablename__ = "cycle_evidence"
    # The same external record imported twice is one piece of evidence.
    __table_args__ = (UniqueConstraint("beneficiary_id", "cycle_id", "source", "reference"),)

    beneficiary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    cycle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cycle.id"), index=True)
    source: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(String(128))
    imported_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"))


class NotificationState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Notification(UUIDPrimaryKey, Timestamps, Base):
    """One reminder step for one beneficiary and cycle; the unique key makes queueing it idempotent."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("beneficiary_id", "cycle_id", "step"),
        # A cycle's reminders counted per step and state (the cycle page) by an index-only scan.
        Index("ix_notification_cycle_step_state", "cycle_id", "step", "state"),
    )

    beneficiary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    cycle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cycle.id"))
    step: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[NotificationState] = mapped_column(
        enum_column(NotificationState), default=NotificationState.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(64))
