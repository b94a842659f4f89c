"""Review cases: the supervisors' queue of exceptions that need a person's decision."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, Timestamps, UUIDPrimaryKey, enum_column


class CaseKind(StrEnum):
    MISSED_CHECKIN = "missed_checkin"
    FAILED_CHECKINS = "failed_checkins"
    DUPLICATE_FACE = "duplicate_face"
    LOCATION_ANOMALY = "location_anomaly"
    VISIT_FINDING = "visit_finding"
    DEATH_RECORD = "death_record"
    # An approved photo change brought in a face far from the person's earlier templates.
    TEMPLATE_CHANGE = "template_change"
    # The person withdrew biometric consent: proof must come another way (a home visit, in person).
    CONSENT_WITHDRAWN = "consent_withdrawn"
    # A township registered an ID number already on another township's rolls: the county decides (held record).
    DUPLICATE_REGISTRATION = "duplicate_registration"


class CaseState(StrEnum):
    OPEN = "open"
    SUSPENDED = "suspended"
    EXTENDED = "extended"
    EXEMPTED = "exempted"
    DISMISSED = "dismissed"
    REINSTATED = "reinstated"
    TERMINATED = "terminated"
    # A termination undone after an appeal: the person proved to be alive.
    RESTORED = "restored"
    # duplicate_registration: the person moved, the new township's record is the live one.
    TRANSFERRED = "transferred"
    # duplicate_registration: the new registration was refused and its record withdrawn.
    REFUSED = "refused"


class ReviewCase(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "review_case"

    kind: Mapped[CaseKind] = mapped_column(enum_column(CaseKind))
    state: Mapped[CaseState] = mapped_column(enum_column(CaseState), default=CaseState.OPEN)
    beneficiary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    # The beneficiary's village when the case opened: scope checks need no join (a range of codes,
    # regions.in_scope, which ix_review_case_scope serves).
    region_code: Mapped[str] = mapped_column(String(12))
    # Makes opening a case idempotent: the same finding never opens two cases.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]]
    due_on: Mapped[date]
    opened_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"))
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"))
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # Optimistic locking: an assignment or decision made on a stale copy is refused, never lost.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    # The queue's question is "open cases, soonest due": one index answers it. Kind is too coarse to
    # be worth its own (six values), and every index costs the sweep's bulk insert a write per case.
    # The list's order with the scope column last (a page's keys and the count read from the index alone,
    # server.db.fetch_page), and the scope first for the counts of one township.
    __table_args__ = (
        Index("ix_review_case_state_due_on", "state", "due_on"),
        Index("ix_review_case_list", "due_on", "created_at", "id", "region_code"),
        Index("ix_review_case_scope", "region_code", "state", "kind"),
        # The counts of what still needs a decision (overview, the queue's count per kind): an index-only
        # scan of the undecided cases, by region, kind, due date and opening.
        Index(
            "ix_review_case_undecided_counts",
            "region_code",
            "kind",
            "due_on",
            "created_at",
            postgresql_where=text("state IN ('open', 'extended')"),
        ),
    )
