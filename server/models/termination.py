"""Terminations of assistance, the appeals against them, restoration with arrears, and death records disputed
when a person they named proved to be alive."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UUIDPrimaryKey, utcnow


class NoticeReason(StrEnum):
    """The grounds a notice gives the person, from a fixed list with standard wording."""

    MISSED_CHECKIN = "missed_checkin"
    FAILED_CHECKINS = "failed_checkins"
    DUPLICATE_FACE = "duplicate_face"
    LOCATION_ANOMALY = "location_anomaly"
    IDENTITY_UNCONFIRMED = "identity_unconfirmed"
    FOUND_ABSENT_TWICE = "found_absent_twice"
    MOVED_AWAY = "moved_away"
    VISIT_FINDING = "visit_finding"
    DIED_PER_VISIT = "died_per_visit"
    DEATH_RECORDED = "death_recorded"
    NO_LONGER_ELIGIBLE = "no_longer_eligible"


class Termination(UUIDPrimaryKey, Base):
    """Assistance ended from `effective_on` by an approved decision; an appeal may lead to restoration."""

    __tablename__ = "termination"

    beneficiary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("review_case.id"), index=True)
    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_decision.id"), unique=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    effective_on: Mapped[date]
    proposed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    approved_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    approved_at: Mapped[datetime] = mapped_column(index=True)
    appealed_at: Mapped[datetime | None]
    appeal_recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"))
    restored_on: Mapped[date | None]
    restore_decision_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case_decision.id"))
    arrears_months: Mapped[int | None]
    arrears_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # The payment run that pays the arrears; None until a run picks them up.
    arrears_paid_in_run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment_run.id"))


class DisputedDeathRecord(UUIDPrimaryKey, Base):
    """A death record shown wrong by the person's own verified check-in: reported to its source registry."""

    __tablename__ = "disputed_death_record"

    # The death_record case that carried the record (one case per record).
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("review_case.id"), unique=True)
    beneficiary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    source: Mapped[str | None] = mapped_column(String(100))
    reference: Mapped[str | None] = mapped_column(String(100))
    date_of_death: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    termination_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("termination.id"))
    proof_checkin_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("checkin.id"))
    disputed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    disputed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
