"""Suspensions of payment, the notices that tell the person, and what reinstatement owes them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UUIDPrimaryKey, enum_column, utcnow
from server.models.termination import NoticeReason


class SuspensionEnd(StrEnum):
    REINSTATED = "reinstated"
    TERMINATED = "terminated"


class Suspension(UUIDPrimaryKey, Base):
    """Payment withheld from `effective_on` until a person reinstates (with arrears) or terminates."""

    __tablename__ = "suspension"

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
    ended_on: Mapped[date | None] = mapped_column(index=True)
    end_reason: Mapped[SuspensionEnd | None] = mapped_column(enum_column(SuspensionEnd))
    ended_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"))
    arrears_months: Mapped[int | None]
    arrears_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # The payment run that pays the arrears; None until a run picks them up.
    arrears_paid_in_run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment_run.id"))


class NoticeKind(StrEnum):
    SUSPENSION = "suspension"
    TERMINATION = "termination"
    # The answer to an appeal the office turned down: the decision stands, and what the person may do next.
    SUSPENSION_UPHELD = "suspension_upheld"
    TERMINATION_UPHELD = "termination_upheld"


class NoticeChannel(StrEnum):
    LETTER = "letter"
    SMS = "sms"
    IN_PERSON = "in_person"
    PHONE = "phone"


class Notice(UUIDPrimaryKey, Base):
    """What the person is told: what happens, why, how to appeal and by when."""

    __tablename__ = "notice"

    beneficiary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("review_case.id"), index=True)
    suspension_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("suspension.id"), index=True)
    termination_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("termination.id"), index=True)
    kind: Mapped[NoticeKind] = mapped_column(enum_column(NoticeKind))
    what: Mapped[str] = mapped_column(Text)
    # The standard wording of `reason_code` ("中文 / English"); older notices also quote the decision's reason.
    why: Mapped[str] = mapped_column(Text)
    reason_code: Mapped[NoticeReason | None] = mapped_column(enum_column(NoticeReason))
    # Free text a staff member wrote for the person; never the decision's internal note.
    note_for_person: Mapped[str | None] = mapped_column(Text)
    # What the decision rests on ("中文 / English"): a death record with its source and reference, a visit.
    evidence: Mapped[str | None] = mapped_column(Text)
    how_to_appeal: Mapped[str] = mapped_column(Text)
    appeal_by: Mapped[date]
    channel: Mapped[NoticeChannel] = mapped_column(enum_column(NoticeChannel))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
