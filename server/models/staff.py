"""Staff accounts: each has one role and one region that bounds everything it sees."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, Timestamps, UUIDPrimaryKey, enum_column


class StaffRole(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    FIELD_WORKER = "field_worker"


class StaffUser(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "staff_user"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str]
    role: Mapped[StaffRole] = mapped_column(enum_column(StaffRole))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]
    # Tokens issued before this instant are refused: set when the account is disabled or its password
    # is reset or changed, so one update revokes every token the person holds.
    tokens_valid_after: Mapped[datetime | None]


class RevokedToken(Base):
    """A token id (jti) that logged out before its expiry; kept until the token would have expired anyway."""

    __tablename__ = "revoked_token"

    jti: Mapped[str] = mapped_column(String(32), primary_key=True)
    revoked_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
