"""The coverage report offices send upward: per child region and in total, how many beneficiaries are
enrolled, checked in and verified in a period, and how many cases, suspensions and reinstatements there are.

Every figure is one grouped query over the region-code prefix (a county's rows are its townships, a
township's its villages, a village's itself), never a loop over people.

- beneficiaries: on the rolls at the end of the period: registered by then and not terminated by then
  (a suspended person counts: the rates would otherwise hide exactly those who did not check in);
- enrolled: of those, with at least one encoded face template (now);
- checked in: of those, with a check-in received in the period; verified: with one verified in the period;
- open cases: cases opened by the end of the period and still undecided (open or extended) now;
- suspensions: approved in the period; reinstatements: taking effect in the period.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select

from server.context import Ctx
from server.models import (
    Beneficiary,
    CaseState,
    Checkin,
    CheckinState,
    EnrolmentPhoto,
    FaceTemplate,
    PhotoState,
    Region,
    RegionLevel,
    ReviewCase,
    Suspension,
    SuspensionEnd,
)
from server.models.region import CODE_LENGTH
from server.services import tallies
from server.services.audit import Actor, record
from server.services.errors import DomainError
from server.services.regions import in_scope, within
from server.services.spreadsheet_cells import neutral

CHILD_LEVEL = {RegionLevel.COUNTY: RegionLevel.TOWNSHIP, RegionLevel.TOWNSHIP: RegionLevel.VILLAGE}
COUNTS = ("beneficiaries", "enrolled", "checked_in", "verified", "open_cases", "suspensions", "reinstatements")
RATES = ("enrolled", "checked_in", "verified")


@dataclass
class CoverageRow:
    region_code: str
    name: str
    beneficiaries: int = 0
    enrolled: int = 0
    checked_in: int = 0
    verified: int = 0
    open_cases: int = 0
    suspensions: int = 0
    reinstatements: int = 0

    def rate(self, count: int) -> Decimal | None:
        """A percentage with one decimal, or None when there is nobody to divide by."""
        if not self.beneficiaries:
            return None
        return (Decimal(100) * count / self.beneficiaries).quantize(Decimal("0.1"))

    def as_dict(self) -> dict[str, Any]:
        row = asdict(self)
        for name in RATES:
            row[f"{name}_pct"] = self.rate(getattr(self, name))
        return row


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _grouped(ctx: Ctx, key: ColumnElement[str], query: Select) -> dict[str, int]:
    return {code: count for count, code in ctx.session.execute(query.add_columns(key).group_by(key))}


def _region(ctx: Ctx, *, actor: Actor, region_code: str, first: date, last: date) -> Region:
    region = ctx.session.get(Region, region_code)
    if region is None or not within(actor.region_code, region_code):
        raise DomainError.field("region", "unknown_region", "no such region in your scope")
    if last < first:
        raise DomainError.field("to", "before_from")
    return region


def tallied_coverage(
    ctx: Ctx, *, actor: Actor, region_code: str, first: date, last: date, recount: bool = False
) -> tuple[list[CoverageRow], CoverageRow, datetime]:
    """coverage(), as counted at most tallies.MAX_AGE ago (or now, with `recount`), and when it was counted."""
    _region(ctx, actor=actor, region_code=region_code, first=first, last=last)

    def count() -> dict[str, Any]:
        rows, total = coverage(ctx, actor=actor, region_code=region_code, first=first, last=last)
        return {"rows": [asdict(row) for row in rows], "total": asdict(total)}

    figures, counted_at = tallies.tallied(
        ctx,
        report="coverage",
        key=f"{first.isoformat()}/{last.isoformat()}",
        region_code=region_code,
        count=count,
        recount=recount,
    )
    return [CoverageRow(**row) for row in figures["rows"]], CoverageRow(**figures["total"]), counted_at


def coverage(
    ctx: Ctx, *, actor: Actor, region_code: str, first: date, last: date
) -> tuple[list[CoverageRow], CoverageRow]:
    """Rows per child region and the total, for the days `first` to `last` inclusive."""
    region = _region(ctx, actor=actor, region_code=region_code, first=first, last=last)
    start, end = _start(first), _start(last + timedelta(days=1))
    child_level = CHILD_LEVEL.get(region.level)
    length = CODE_LENGTH[child_level or region.level]
    children = (
        ctx.session.scalars(select(Region).where(Region.parent_code == region_code).order_by(Region.code)).all()
        if child_level
        else [region]
    )

    def prefix(column) -> ColumnElement[str]:
        return func.substr(column, 1, length)

    on_rolls = (
        in_scope(Beneficiary.village_code, region_code),
        Beneficiary.created_at < end,
        or_(Beneficiary.terminated_on.is_(None), Beneficiary.terminated_on > last),
    )
    encoded = (
        select(FaceTemplate.beneficiary_id)
        .join(EnrolmentPhoto, EnrolmentPhoto.id == FaceTemplate.photo_id)
        .where(EnrolmentPhoto.state == PhotoState.ENCODED)
    )
    received = select(Checkin.beneficiary_id).where(Checkin.created_at >= start, Checkin.created_at < end)
    verified = select(Checkin.beneficiary_id).where(
        Checkin.state == CheckinState.VERIFIED, Checkin.decided_at >= start, Checkin.decided_at < end
    )
    village = prefix(Beneficiary.village_code)
    # The four figures about people in one pass over them: each IN is a set built once (hashed), not a
    # query per person.
    people = (
        select(
            village,
            func.count(),
            *(func.sum(case((Beneficiary.id.in_(of), 1), else_=0)) for of in (encoded, received, verified)),
        )
        .where(*on_rolls)
        .group_by(village)
    )
    by_village = {code: counts for code, *counts in ctx.session.execute(people)}
    figures = {
        name: {code: counts[position] for code, counts in by_village.items()}
        for position, name in enumerate(("beneficiaries", "enrolled", "checked_in", "verified"))
    }
    figures |= {
        "open_cases": _grouped(
            ctx,
            prefix(ReviewCase.region_code),
            select(func.count(ReviewCase.id)).where(
                in_scope(ReviewCase.region_code, region_code),
                ReviewCase.state.in_((CaseState.OPEN, CaseState.EXTENDED)),
                ReviewCase.created_at < end,
            ),
        ),
        "suspensions": _grouped(
            ctx,
            prefix(Suspension.region_code),
            select(func.count(Suspension.id)).where(
                in_scope(Suspension.region_code, region_code),
                Suspension.approved_at >= start,
                Suspension.approved_at < end,
            ),
        ),
        "reinstatements": _grouped(
            ctx,
            prefix(Suspension.region_code),
            select(func.count(Suspension.id)).where(
                in_scope(Suspension.region_code, region_code),
                Suspension.end_reason == SuspensionEnd.REINSTATED,
                Suspension.ended_on >= first,
                Suspension.ended_on <= last,
            ),
        ),
    }
    rows = [
        CoverageRow(child.code, child.name, **{name: figures[name].get(child.code, 0) for name in COUNTS})
        for child in children
    ]
    total = CoverageRow(region.code, region.name, **{name: sum(getattr(r, name) for r in rows) for name in COUNTS})
    return rows, total


CSV_COLUMNS = (
    "region_code",
    "name",
    "beneficiaries",
    "enrolled",
    "enrolled_pct",
    "checked_in",
    "checked_in_pct",
    "verified",
    "verified_pct",
    "open_cases",
    "suspensions",
    "reinstatements",
)


def coverage_csv(
    ctx: Ctx, *, actor: Actor, rows: list[CoverageRow], total: CoverageRow, first: date, last: date
) -> bytes:
    """The report as CSV, the total last; the export is audited and the caller commits."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in [*rows, total]:
        writer.writerow({key: "" if value is None else neutral(value) for key, value in row.as_dict().items()})
    record(
        ctx.session,
        actor=actor,
        action="report.coverage_exported",
        object_type="report",
        object_id=uuid.uuid4(),
        region_code=total.region_code,
        details={"from": first.isoformat(), "to": last.isoformat()},
    )
    return buffer.getvalue().encode("utf-8-sig")
