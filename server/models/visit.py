"""Home visits by field workers: GPS-stamped records from offline devices, their photos and fraud flags."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, EncryptedText, Timestamps, UUIDPrimaryKey, enum_column


class VisitOutcome(StrEnum):
    CONFIRMED_PRESENT = "confirmed_present"
    ABSENT = "absent"
    MOVED_AWAY = "moved_away"
    DECEASED = "deceased"
    REFUSED = "refused"


class VisitFlagCode(StrEnum):
    FAR_FROM_HOME = "far_from_home"
    POOR_ACCURACY = "poor_accuracy"
    MOCK_LOCATION = "mock_location"
    IMPOSSIBLE_TRAVEL = "impossible_travel"
    DESK_CLUSTER = "desk_cluster"
    CLOCK_SKEW = "clock_skew"
    OUTSIDE_REGION = "outside_region"


class EncryptedJSON(EncryptedText):
    """A JSON document encrypted like EncryptedText: GPS at a home and health answers are identity-adjacent."""

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
        return None if value is None else super().process_bind_param(json.dumps(value, sort_keys=True), dialect)

    def process_result_value(self, value: bytes | None, dialect: Any) -> Any:
        text = super().process_result_value(value, dialect)
        return None if text is None else json.loads(text)


class Visit(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "visit"
    # A resubmission from the device is recognised by the worker's own client id and stored once.
    __table_args__ = (
        UniqueConstraint("field_worker_id", "client_id"),
        Index("ix_visit_field_worker_id_started_at", "field_worker_id", "started_at"),
        # The list's order (newest first, read backwards) with both scope columns last.
        Index("ix_visit_list", "started_at", "id", "region_code", "worker_region_code"),
        # Both scope columns alone: a list's bounded count reads this narrow index only (an index-only scan,
        # 1.3 ms for 10,000 visits, against a sequential scan of the wide rows, 3.0 ms); it also serves the
        # visited village alone.
        Index("ix_visit_scope", "region_code", "worker_region_code"),
    )

    field_worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    client_id: Mapped[str] = mapped_column(String(64))
    # A visit to one person, or to a household (beneficiary_id empty): then it concerns every member.
    beneficiary_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    household_code: Mapped[str | None] = mapped_column(String(32), index=True)
    # The visited person's village and the worker's region when it was recorded: scope checks need no join.
    region_code: Mapped[str] = mapped_column(String(12))
    worker_region_code: Mapped[str] = mapped_column(String(12), index=True)
    # Device clock; received_at is the server's.
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    received_at: Mapped[datetime]
    device_sent_at: Mapped[datetime | None]
    gps_fixes: Mapped[list[dict[str, Any]]] = mapped_column(EncryptedJSON("visit.gps_fixes"))
    checklist_version: Mapped[int]
    checklist: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("visit.checklist"))
    outcome: Mapped[VisitOutcome] = mapped_column(enum_column(VisitOutcome), index=True)
    notes: Mapped[str | None] = mapped_column(EncryptedText("visit.notes"))
    device_info: Mapped[dict[str, Any]]
    # Set when the visit names someone outside the worker's region: kept for review, never shown to the worker.
    quarantined: Mapped[bool] = mapped_column(default=False)
    # Digest of the last edit and the version it was based on, so a retried edit is recognised, not refused.
    last_edit_digest: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class VisitFlag(Base):
    """One fraud or location signal on a visit, with what was measured."""

    __tablename__ = "visit_flag"
    __table_args__ = (UniqueConstraint("visit_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visit.id"), index=True)
    code: Mapped[VisitFlagCode] = mapped_column(enum_column(VisitFlagCode), index=True)
    details: Mapped[dict[str, Any]]
    raised_at: Mapped[datetime]


class VisitPhoto(UUIDPrimaryKey, Base):
    """A photo taken during a visit: encrypted in storage, identified by its hash so a re-upload is a no-op."""

    __tablename__ = "visit_photo"
    __table_args__ = (UniqueConstraint("visit_id", "sha256"),)

    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visit.id"), index=True)
    object_key: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime]
