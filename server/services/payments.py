"""Payment runs: for a period and a region, who is paid, who is withheld, who is paid arrears, who has ended.

A run is built once per period and region and is then the document that was paid: building it again
returns the same run, and runs whose regions overlap (a county and one of its townships) cannot both
exist for a period, so nobody is paid twice. Corrections go into the next run.

Categories, per beneficiary registered by the end of the period:
- `pay`: active (or suspended only from a later month): the monthly amount;
- `reinstated_arrears`: active with arrears from a reinstatement (or a termination undone) no run has paid
  yet: the monthly amount plus the arrears, which this run then pays;
- `suspended`: suspended from this month or earlier: nothing;
- `terminated`: terminated and not yet reported by an earlier run: nothing, listed once so the payer stops.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.context import Ctx
from server.db import savepoint
from server.models import (
    Beneficiary,
    BeneficiaryStatus,
    PaymentCategory,
    PaymentLine,
    PaymentRun,
    Region,
    Suspension,
    SuspensionEnd,
    Termination,
)
from server.services.audit import Actor, record
from server.services.errors import Conflict, DomainError, NotFound
from server.services.months import period_end, period_of
from server.services.regions import in_scope, within
from server.services.spreadsheet_cells import neutral_row

ZERO = Decimal("0.00")
COLUMNS = ("village_code", "name", "id_number_masked", "category", "amount", "arrears_amount", "total", "flag")
TOTAL_COLUMNS = ("category", "count", "amount", "arrears_amount", "total")


def get_run(ctx: Ctx, *, actor: Actor, run_id: uuid.UUID) -> PaymentRun:
    run = ctx.session.scalar(
        select(PaymentRun).where(PaymentRun.id == run_id, in_scope(PaymentRun.region_code, actor.region_code))
    )
    if run is None:
        raise NotFound("payment run not found", {"run_id": ["not_found"]})
    return run


def list_runs(ctx: Ctx, *, actor: Actor, period: str | None) -> list[PaymentRun]:
    query = select(PaymentRun).where(in_scope(PaymentRun.region_code, actor.region_code))
    if period:
        query = query.where(PaymentRun.period == period)
    return list(ctx.session.scalars(query.order_by(PaymentRun.period.desc(), PaymentRun.region_code)))


def lines_of(ctx: Ctx, *, beneficiary: Beneficiary, limit: int = 24) -> list[PaymentLine]:
    """A person's payment lines, latest month first (the caller has checked the person is in scope)."""
    return list(
        ctx.session.scalars(
            select(PaymentLine)
            .where(PaymentLine.beneficiary_id == beneficiary.id)
            .order_by(PaymentLine.period.desc(), PaymentLine.id.desc())
            .limit(limit)
        )
    )


def _existing(ctx: Ctx, period: str, region_code: str) -> PaymentRun | None:
    return ctx.session.scalar(
        select(PaymentRun).where(PaymentRun.period == period, PaymentRun.region_code == region_code)
    )


def build_run(ctx: Ctx, *, actor: Actor, period: str, region_code: str) -> tuple[PaymentRun, bool]:
    """The run for a period and region, built now if it does not exist yet. Returns (run, created)."""
    region = ctx.session.get(Region, region_code)
    if region is None or not within(actor.region_code, region_code):
        raise DomainError.field("region", "unknown_region", "no such region in your scope")
    existing = _existing(ctx, period, region_code)
    if existing is not None:
        return existing, False
    for other in ctx.session.scalars(select(PaymentRun).where(PaymentRun.period == period)):
        if within(other.region_code, region_code) or within(region_code, other.region_code):
            raise Conflict(
                f"a run for {period} already covers part of this region ({other.region_code})",
                {"region": ["overlapping_run"], "run_id": [str(other.id)]},
            )
    try:
        with savepoint(ctx.session):
            return _build(ctx, actor=actor, period=period, region_code=region_code), True
    except IntegrityError:
        # Someone built the same run at the same moment: theirs stands.
        return _existing(ctx, period, region_code), False


def _build(ctx: Ctx, *, actor: Actor, period: str, region_code: str) -> PaymentRun:
    run = PaymentRun(
        period=period,
        region_code=region_code,
        created_by=uuid.UUID(actor.id),
        total_amount=ZERO,
        total_arrears=ZERO,
        counts={},
    )
    ctx.session.add(run)
    ctx.session.flush()
    lines = _lines(ctx, run)
    ctx.session.add_all(lines)
    run.total_amount = sum((line.amount + line.arrears_amount for line in lines), ZERO)
    run.total_arrears = sum((line.arrears_amount for line in lines), ZERO)
    run.counts = {category.value: sum(1 for line in lines if line.category == category) for category in PaymentCategory}
    record(
        ctx.session,
        actor=actor,
        action="payment_run.built",
        object_type="payment_run",
        object_id=run.id,
        region_code=region_code,
        details={"period": period, "counts": run.counts, "total_amount": str(run.total_amount)},
    )
    return run


def _lines(ctx: Ctx, run: PaymentRun) -> list[PaymentLine]:
    last_day = period_end(run.period)
    registered_by = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=UTC)
    people = ctx.session.scalars(
        select(Beneficiary)
        .where(in_scope(Beneficiary.village_code, run.region_code), Beneficiary.created_at < registered_by)
        .order_by(Beneficiary.village_code, Beneficiary.name, Beneficiary.id)
    ).all()
    ongoing = {
        s.beneficiary_id: s
        for s in ctx.session.scalars(
            select(Suspension).where(in_scope(Suspension.region_code, run.region_code), Suspension.ended_on.is_(None))
        )
    }
    unpaid_arrears: dict[uuid.UUID, list[Suspension | Termination]] = defaultdict(list)
    for s in ctx.session.scalars(
        select(Suspension).where(
            in_scope(Suspension.region_code, run.region_code),
            Suspension.end_reason == SuspensionEnd.REINSTATED,
            Suspension.arrears_amount > 0,
            Suspension.arrears_paid_in_run_id.is_(None),
        )
    ):
        unpaid_arrears[s.beneficiary_id].append(s)
    # A termination undone after an appeal owes arrears the same way.
    for t in ctx.session.scalars(
        select(Termination).where(
            in_scope(Termination.region_code, run.region_code),
            Termination.restored_on.is_not(None),
            Termination.arrears_amount > 0,
            Termination.arrears_paid_in_run_id.is_(None),
        )
    ):
        unpaid_arrears[t.beneficiary_id].append(t)
    reported_terminated = set(
        ctx.session.scalars(
            select(PaymentLine.beneficiary_id).where(PaymentLine.category == PaymentCategory.TERMINATED)
        )
    )
    lines = []
    for person in people:
        amount, arrears = person.monthly_amount, ZERO
        if person.status == BeneficiaryStatus.TERMINATED:
            if person.id in reported_terminated:
                continue
            category, amount = PaymentCategory.TERMINATED, ZERO
        elif person.id in ongoing and period_of(ongoing[person.id].effective_on) <= run.period:
            category, amount = PaymentCategory.SUSPENDED, ZERO
        elif unpaid_arrears.get(person.id):
            category = PaymentCategory.REINSTATED_ARREARS
            arrears = sum((s.arrears_amount for s in unpaid_arrears[person.id]), ZERO)
            for s in unpaid_arrears[person.id]:
                s.arrears_paid_in_run_id = run.id
        else:
            category = PaymentCategory.PAY
        lines.append(
            PaymentLine(
                run_id=run.id,
                beneficiary_id=person.id,
                period=run.period,
                category=category,
                village_code=person.village_code,
                name=person.name,
                id_number_masked=person.id_number_masked,
                amount=amount,
                arrears_amount=arrears,
            )
        )
    return lines


def _rows(ctx: Ctx, run: PaymentRun) -> list[list[Any]]:
    """The export: one row per person, a blank row, then totals per category and overall."""
    lines = ctx.session.scalars(
        select(PaymentLine)
        .where(PaymentLine.run_id == run.id)
        .order_by(PaymentLine.village_code, PaymentLine.name, PaymentLine.id)
    ).all()
    rows: list[list[Any]] = [list(COLUMNS)]
    for line in lines:
        rows.append(
            [
                line.village_code,
                line.name,
                line.id_number_masked,
                line.category.value,
                line.amount,
                line.arrears_amount,
                line.amount + line.arrears_amount,
                line.flag or "",
            ]
        )
    rows += [[], list(TOTAL_COLUMNS)]
    for category in PaymentCategory:
        of_kind = [line for line in lines if line.category == category]
        amount = sum((line.amount for line in of_kind), ZERO)
        arrears = sum((line.arrears_amount for line in of_kind), ZERO)
        rows.append([category.value, len(of_kind), amount, arrears, amount + arrears])
    rows.append(["all", len(lines), run.total_amount - run.total_arrears, run.total_arrears, run.total_amount])
    return rows


def _csv(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(neutral_row(row) for row in rows)
    # With a BOM, Excel on Chinese Windows opens the names correctly.
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx(rows: list[list[Any]], title: str) -> bytes:
    # openpyxl takes a seventh of a second to import: only the exports that ask for Excel pay it.
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(neutral_row(row))
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, Decimal):
                cell.number_format = "0.00"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


EXPORT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export(ctx: Ctx, *, actor: Actor, run: PaymentRun, fmt: str) -> tuple[bytes, str, str]:
    """The run as CSV or XLSX: (content, media type, file name). The export is audited; the caller commits."""
    rows = _rows(ctx, run)
    content = _csv(rows) if fmt == "csv" else _xlsx(rows, run.period)
    record(
        ctx.session,
        actor=actor,
        action="payment_run.exported",
        object_type="payment_run",
        object_id=run.id,
        region_code=run.region_code,
        details={"format": fmt, "period": run.period, "lines": sum(run.counts.values())},
    )
    return content, EXPORT_TYPES[fmt], f"payment-run-{run.region_code}-{run.period}.{fmt}"
