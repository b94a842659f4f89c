"""A beneficiary's separate consent to biometric processing, as PIPL arts. 28–29 require."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UUIDPrimaryKey, utcnow


class BiometricConsent(UUIDPrimaryKey, Base):
    """Consent given on a device when it was activated: which text the person agreed to, and when."""

    __tablename__ = "biometric_consent"

    beneficiary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("device.id"), unique=True)
    text_version: Mapped[str] = mapped_column(String(32))
    agreed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the person withdrew it (PIPL art. 15): their devices may no longer start a check-in.
    withdrawn_at: Mapped[datetime | None]
