"""Administrative divisions: county (6 digits) › township (9) › village (12).

A child's code starts with its parent's, so "everything in my region" is a prefix match.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, enum_column


class RegionLevel(StrEnum):
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


CODE_LENGTH = {RegionLevel.COUNTY: 6, RegionLevel.TOWNSHIP: 9, RegionLevel.VILLAGE: 12}
PARENT_LEVEL = {RegionLevel.TOWNSHIP: RegionLevel.COUNTY, RegionLevel.VILLAGE: RegionLevel.TOWNSHIP}


def level_of(code: str) -> RegionLevel | None:
    """The level a code's length implies, or None for a malformed code."""
    if not code.isdigit():
        return None
    return next((level for level, length in CODE_LENGTH.items() if length == len(code)), None)


class Region(Base):
    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[RegionLevel] = mapped_column(enum_column(RegionLevel))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
