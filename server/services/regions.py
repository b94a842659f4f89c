"""Regions and the scope rule: a staff member sees what lies inside their region's code."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute

from server.context import Ctx
from server.models import Region, RegionLevel
from server.models.region import CODE_LENGTH, PARENT_LEVEL, level_of
from server.services.audit import Actor, record
from server.services.errors import DomainError


def within(region_code: str, code: str) -> bool:
    """Whether `code` lies inside the region `region_code`."""
    return code.startswith(region_code)


# The longest code (a village's): every code inside a region lies between its code and that code padded with 9s.
LONGEST_CODE = max(CODE_LENGTH.values())


def in_scope(column: InstrumentedAttribute[str], region_code: str) -> ColumnElement[bool]:
    """SQL for `column` lying inside the region: for codes of digits, "starts with the region's code" is the
    range from that code to it padded with 9s, which a plain B-tree under any collation serves on PostgreSQL
    and SQLite alike (a LIKE prefix needs a pattern-ops index on PostgreSQL, and SQLite's case-insensitive
    LIKE none), so scoped lists and counts read a range of an index, not all of it."""
    return column.between(*scope_bounds(region_code))


def scope_bounds(region_code: str) -> tuple[str, str]:
    """The first and last code inside the region: its own, and its own padded with 9s."""
    return region_code, region_code + "9" * (LONGEST_CODE - len(region_code))


def create_region(ctx: Ctx, *, actor: Actor, code: str, name: str) -> Region:
    """Add a region; its parent is implied by the code and must already exist."""
    level = level_of(code)
    if level is None:
        raise DomainError.field(
            "code", "malformed", "a region code has 6 (county), 9 (township) or 12 (village) digits"
        )
    parent_code = None
    if level in PARENT_LEVEL:
        parent_code = code[: CODE_LENGTH[PARENT_LEVEL[level]]]
        if ctx.session.get(Region, parent_code) is None:
            raise DomainError.field("code", "parent_missing", f"parent region {parent_code} does not exist")
    if ctx.session.get(Region, code) is not None:
        raise DomainError.field("code", "already_exists")
    region = Region(code=code, name=name, level=level, parent_code=parent_code)
    ctx.session.add(region)
    record(ctx.session, actor=actor, action="region.created", object_type="region", object_id=code, region_code=code)
    return region


def names_in_scope(ctx: Ctx, *, region_code: str) -> dict[str, str]:
    """Code → name of every region inside a region, read as plain rows: the console names regions in every list,
    and loading a county's thousand villages as objects took longer than the rest of a page."""
    return dict(ctx.session.execute(select(Region.code, Region.name).where(in_scope(Region.code, region_code))).all())


def regions_in_scope(ctx: Ctx, *, region_code: str, level: RegionLevel | None = None) -> list[Region]:
    """The regions inside a region, ordered by code."""
    query = select(Region).where(in_scope(Region.code, region_code)).order_by(Region.code)
    if level is not None:
        query = query.where(Region.level == level)
    return list(ctx.session.scalars(query))
