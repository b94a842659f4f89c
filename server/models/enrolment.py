"""Enrolment photos and the face templates the worker derives from them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, EncryptedBytes, Timestamps, UUIDPrimaryKey, enum_column


class PhotoState(StrEnum):
    # Sent for an enrolled person: waits for a second person's approval before it is encoded.
    PROPOSED = "proposed"
    RECEIVED = "received"
    PROCESSING = "processing"
    ENCODED = "encoded"
    FAILED = "failed"
    RETIRED = "retired"


class EnrolmentPhoto(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "enrolment_photo"

    beneficiary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    uploaded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    object_key: Mapped[str] = mapped_column(String(200), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int]
    height: Mapped[int]
    quality: Mapped[dict[str, Any]]
    state: Mapped[PhotoState] = mapped_column(enum_column(PhotoState), default=PhotoState.RECEIVED, index=True)
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    # A worker owns a photo in `processing` until this passes; then a beat duty hands it out again.
    lease_expires_at: Mapped[datetime | None]
    # The approved change that brought this photo in; None for a first enrolment.
    change_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("photo_change.id"), index=True)


class FaceTemplate(UUIDPrimaryKey, Base):
    """A 128-d face descriptor, encrypted: one per encoded enrolment photo, or the best frame of a
    verified check-in (a face that ages with the person; a bounded few per person)."""

    __tablename__ = "face_template"
    __table_args__ = (CheckConstraint("(photo_id IS NULL) <> (checkin_id IS NULL)", name="one_source"),)

    photo_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enrolment_photo.id"), unique=True)
    checkin_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("checkin.id"), unique=True)
    beneficiary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    # Duplicate search compares within a county; keeping the code here avoids a join per search.
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    model: Mapped[str] = mapped_column(String(32))
    vector: Mapped[bytes] = mapped_column(EncryptedBytes("face_template.vector"))
    created_at: Mapped[datetime]


class FaceGalleryVersion(Base):
    """How many times a county's set of active templates has changed.

    Every change bumps it under the row's lock, held to commit, so the versions of one county follow
    commit order: a process holding the gallery in memory up to version v only reads newer changes.
    """

    __tablename__ = "face_gallery_version"

    county_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    # New with the row: a gallery loaded from another life of the table (emptied, restored) reloads.
    epoch: Mapped[uuid.UUID] = mapped_column(Uuid)


class FaceGalleryChange(Base):
    """A template that became active (added) or stopped counting (removed) at a county's gallery version."""

    __tablename__ = "face_gallery_change"
    __table_args__ = (Index("ix_face_gallery_change_county_version", "county_code", "version"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6))
    version: Mapped[int] = mapped_column(BigInteger)
    # No foreign key: a removed template's row is often deleted.
    template_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    added: Mapped[bool]


class PhotoChangeKind(StrEnum):
    ADD = "add"
    REPLACE = "replace"
    RETIRE = "retire"


class PhotoChangeStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class PhotoChange(UUIDPrimaryKey, Timestamps, Base):
    """A proposed change to an enrolled person's photos: whoever holds the photos holds the identity,
    so one person proposes and another approves, as for a suspension."""

    __tablename__ = "photo_change"

    beneficiary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    kind: Mapped[PhotoChangeKind] = mapped_column(enum_column(PhotoChangeKind))
    status: Mapped[PhotoChangeStatus] = mapped_column(
        enum_column(PhotoChangeStatus), default=PhotoChangeStatus.PENDING, index=True
    )
    proposed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    reason: Mapped[str] = mapped_column(Text)
    # The photos a `retire` change takes out of matching (an `add` or `replace` brings its own photos).
    retire_photo_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"))
    reviewed_at: Mapped[datetime | None]
    review_reason: Mapped[str | None] = mapped_column(Text)
