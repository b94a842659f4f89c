"""Notices for staff about changes that deserve a second look (a person's phone replaced)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UUIDPrimaryKey, utcnow


class StaffNotification(UUIDPrimaryKey, Base):
    """One notice shown to the supervisors of its region; `read_at` is set when one of them has seen it."""

    __tablename__ = "staff_notification"

    kind: Mapped[str] = mapped_column(String(32))
    beneficiary_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(12))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    details: Mapped[dict[str, Any]]
    read_at: Mapped[datetime | None]
