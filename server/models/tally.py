"""Counts a console page would otherwise recount over a whole county on every request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base


class Tally(Base):
    """One report's figures for one region (a county), per village, as counted at `counted_at`.

    `report` names what was counted (a cycle's status, coverage over a period), `key` which one (the cycle,
    the period); `counts` maps each village code to its figures, so any region inside is their sum.
    """

    __tablename__ = "tally"

    report: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    counts: Mapped[dict[str, Any]]
    counted_at: Mapped[datetime]
