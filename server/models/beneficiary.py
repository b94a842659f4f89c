"""Beneficiaries of social assistance and the devices that act for them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, EncryptedText, Timestamps, UUIDPrimaryKey, enum_column


class Program(StrEnum):
    URBAN_MINIMUM_ALLOWANCE = "urban_minimum_allowance"
    RURAL_MINIMUM_ALLOWANCE = "rural_minimum_allowance"
    DESTITUTE_DISPERSED = "destitute_dispersed"
    DESTITUTE_CONCENTRATED = "destitute_concentrated"
    ORPHAN = "orphan"
    TEMPORARY_ASSISTANCE = "temporary_assistance"


class BeneficiaryStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


class Beneficiary(UUIDPrimaryKey, Timestamps, Base):
    # The registry's order; its leading column serves the scope (a range of village codes) too.
    __tablename__ = "beneficiary"

    # The resident ID number is only ever stored encrypted; the HMAC index finds it, the mask shows it.
    id_number: Mapped[str] = mapped_column(EncryptedText("beneficiary.id_number"))
    # Unique among the records that are not held (uq_beneficiary_id_number_index below).
    id_number_index: Mapped[str] = mapped_column(String(64))
    id_number_masked: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(100), index=True)
    program: Mapped[Program] = mapped_column(enum_column(Program), index=True)
    household_code: Mapped[str | None] = mapped_column(String(32), index=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    home_address: Mapped[str | None] = mapped_column(EncryptedText("beneficiary.home_address"))
    home_lat: Mapped[float | None]
    home_lon: Mapped[float | None]
    phone: Mapped[str | None] = mapped_column(EncryptedText("beneficiary.phone"))
    status: Mapped[BeneficiaryStatus] = mapped_column(enum_column(BeneficiaryStatus), default=BeneficiaryStatus.ACTIVE)
    monthly_amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    # The date assistance ended (for a death, the date of death); set when a termination is approved.
    terminated_on: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1)
    # Held: registered by a township while the same ID number was on another township's rolls. The record
    # looks like any new one to the township (no oracle across townships) but is neither paid nor swept until
    # a county supervisor resolves its duplicate_registration case. A record that ended because its person
    # moved points at the record that replaced it.
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("beneficiary.id"))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index(
            "uq_beneficiary_id_number_index",
            "id_number_index",
            unique=True,
            postgresql_where=text("duplicate_of IS NULL"),
            sqlite_where=text("duplicate_of IS NULL"),
        ),
        # The few held or replaced records, by ID number (a lookup ORs it with the unique index) and as the set
        # the sweep and payment runs leave out.
        Index(
            "ix_beneficiary_held",
            "id_number_index",
            postgresql_where=text("duplicate_of IS NOT NULL"),
            sqlite_where=text("duplicate_of IS NOT NULL"),
        ),
        # The registry's order with the scope column first (server.db.fetch_page reads a page's keys from it).
        Index("ix_beneficiary_list", "village_code", "name", "id"),
        # Who is on the rolls or due, per region (coverage, a cycle's status counts, the sweep): an index-only
        # scan instead of reading every row with its ciphertexts.
        Index(
            "ix_beneficiary_rolls",
            "village_code",
            postgresql_include=["status", "program", "created_at", "terminated_on", "id"],
        ),
    )


class Device(UUIDPrimaryKey, Timestamps, Base):
    """A phone activated with a one-time code to act for exactly one beneficiary."""

    __tablename__ = "device"

    beneficiary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    issued_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    activation_code_index: Mapped[str | None] = mapped_column(String(64), unique=True)
    activation_expires_at: Mapped[datetime]
    activated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    label: Mapped[str | None] = mapped_column(String(100))

    # The phones page, newest first: a page read from the index's end, not a sort of every phone.
    __table_args__ = (Index("ix_device_created_at", "created_at", "id"),)
