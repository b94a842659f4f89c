"""Payment runs: per period and region, who is paid, withheld, paid arrears, or terminated."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UUIDPrimaryKey, enum_column, utcnow


class PaymentCategory(StrEnum):
    PAY = "pay"
    SUSPENDED = "suspended"
    REINSTATED_ARREARS = "reinstated_arrears"
    TERMINATED = "terminated"


class PaymentRun(UUIDPrimaryKey, Base):
    __tablename__ = "payment_run"
    __table_args__ = (UniqueConstraint("period", "region_code"),)

    # YYYY-MM
    period: Mapped[str] = mapped_column(String(7), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    total_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    total_arrears: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    # People per category: {"pay": 120, "suspended": 3, ...}
    counts: Mapped[dict[str, Any]]


class PaymentLine(Base):
    """One person in a run; name and masked ID are copied so the run stays the document that was paid."""

    __tablename__ = "payment_line"
    __table_args__ = (UniqueConstraint("run_id", "beneficiary_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_run.id"), index=True)
    beneficiary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    category: Mapped[PaymentCategory] = mapped_column(enum_column(PaymentCategory))
    village_code: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(100))
    id_number_masked: Mapped[str] = mapped_column(String(18))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    arrears_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    # e.g. "paid_after_death", set when a death record shows the person died before this period.
    flag: Mapped[str | None] = mapped_column(String(32), index=True)
