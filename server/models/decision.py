"""Decisions on review cases, kept as a history, and the visit tasks that an `order_visit` decision creates."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UUIDPrimaryKey, enum_column, utcnow
from server.models.termination import NoticeReason


class DecisionKind(StrEnum):
    SUSPEND = "suspend"
    TERMINATE = "terminate"
    EXTEND = "extend"
    EXEMPT = "exempt"
    ORDER_VISIT = "order_visit"
    DISMISS = "dismiss"
    # After an appeal against a termination, for a person proven alive: back to active, with arrears.
    RESTORE = "restore"
    # duplicate_registration: the same person moved; the held record replaces the one on the old rolls.
    TRANSFER = "transfer"
    # duplicate_registration: the registration is refused; the held record is withdrawn.
    REFUSE = "refuse"


class DecisionStatus(StrEnum):
    # Taken by one person and in effect at once.
    APPLIED = "applied"
    # Four eyes: proposed by one person, waiting for another to approve or reject it.
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class CaseDecision(UUIDPrimaryKey, Base):
    """One decision on a case: the history is kept, never overwritten."""

    __tablename__ = "case_decision"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("review_case.id"), index=True)
    decision: Mapped[DecisionKind] = mapped_column(enum_column(DecisionKind))
    status: Mapped[DecisionStatus] = mapped_column(enum_column(DecisionStatus), index=True)
    # None when the system decided (a verified check-in closing a missed_checkin case).
    proposed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The internal note: staff only, never printed on a notice.
    reason: Mapped[str] = mapped_column(Text)
    # suspend/terminate: the notice's grounds from the fixed list, and free text the staff member wrote for
    # the person (printed on the notice only when given).
    notice_reason: Mapped[NoticeReason | None] = mapped_column(enum_column(NoticeReason))
    notice_text: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]]
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"))
    approved_at: Mapped[datetime | None]
    rejected_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"))
    rejected_at: Mapped[datetime | None]
    # Why the second person approved or rejected the proposal.
    review_reason: Mapped[str | None] = mapped_column(Text)


class VisitTaskState(StrEnum):
    OPEN = "open"
    DONE = "done"


class VisitTask(UUIDPrimaryKey, Base):
    """A home visit a supervisor ordered; the visits feature marks it done."""

    __tablename__ = "visit_task"
    # The list's order with the scope column last.
    __table_args__ = (Index("ix_visit_task_list", "due_on", "created_at", "id", "region_code"),)

    beneficiary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("review_case.id"), index=True)
    field_worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    due_on: Mapped[date]
    state: Mapped[VisitTaskState] = mapped_column(enum_column(VisitTaskState), default=VisitTaskState.OPEN, index=True)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    # The visit that did the task.
    visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visit.id"))
