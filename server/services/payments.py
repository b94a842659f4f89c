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
import itertools
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Numeric,
    Row,
    Select,
    String,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)
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
from server.services.months import period_end
from server.services.regions import in_scope, within
from server.services.spreadsheet_cells import FORMULA_LEADS, neutral_row

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


def check_build(ctx: Ctx, *, actor: Actor, period: str, region_code: str) -> PaymentRun | None:
    """Refuse a run that cannot be built (a region out of scope, one overlapping a run of the period); the run
    if it exists already, else None: what the API and console check before they start the build as a job."""
    region = ctx.session.get(Region, region_code)
    if region is None or not within(actor.region_code, region_code):
        raise DomainError.field("region", "unknown_region", "no such region in your scope")
    existing = _existing(ctx, period, region_code)
    if existing is not None:
        return existing
    for other in ctx.session.scalars(select(PaymentRun).where(PaymentRun.period == period)):
        if within(other.region_code, region_code) or within(region_code, other.region_code):
            raise Conflict(
                f"a run for {period} already covers part of this region ({other.region_code})",
                {"region": ["overlapping_run"], "run_id": [str(other.id)]},
            )
    return None


def build_run(ctx: Ctx, *, actor: Actor, period: str, region_code: str) -> tuple[PaymentRun, bool]:
    """The run for a period and region, built now if it does not exist yet. Returns (run, created)."""
    existing = check_build(ctx, actor=actor, period=period, region_code=region_code)
    if existing is not None:
        return existing, False
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
    _insert_lines(ctx, run)
    sums = _sums(ctx, run)
    run.counts = {category.value: sums[category][0] for category in PaymentCategory}
    run.total_amount = sum((amount + arrears for _count, amount, arrears in sums.values()), ZERO)
    run.total_arrears = sum((arrears for _count, _amount, arrears in sums.values()), ZERO)
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


BUILD = "payment_run"


class RunBuild:
    """The build as a job (`jobs.JobKind`) of one item, so no request waits for it: the API and console call
    `check_build` first and answer at once what needs no build (a run that exists, a refusal)."""

    batch_size = 1

    def check(self, data: bytes, params: Mapping[str, Any]) -> None:
        """The parameters were checked by `check_build`; there is no upload."""

    def items(self, data: bytes, params: Mapping[str, Any]) -> Iterator[Any]:
        return iter([params])

    def count(self, data: bytes, params: Mapping[str, Any]) -> int:
        return 1

    def process(self, ctx: Ctx, actor: Actor, params: Mapping[str, Any], batch: list[Any]) -> list[dict[str, Any]]:
        run, created = build_run(ctx, actor=actor, period=params["period"], region_code=params["region"])
        return [{"status": "built" if created else "existing", "run_id": str(run.id)}]


def built_run(ctx: Ctx, *, actor: Actor, result: Mapping[str, Any]) -> PaymentRun:
    """The run a finished build job made (or found), from `jobs.job_result`."""
    return get_run(ctx, actor=actor, run_id=uuid.UUID(result["rows"][0]["run_id"]))


def _insert_lines(ctx: Ctx, run: PaymentRun) -> None:
    """Every line of the run in one INSERT … SELECT, then the arrears it pays marked paid in one UPDATE: at the
    scale of a county (150,000 people) an object per line cost seconds of ORM and of decrypting fields no
    line keeps."""
    last_day = period_end(run.period)
    registered_by = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=UTC)
    scope = in_scope(Suspension.region_code, run.region_code)
    suspended = (
        select(Suspension.beneficiary_id)
        .where(scope, Suspension.ended_on.is_(None), Suspension.effective_on <= last_day)
        .distinct()
        .subquery()
    )
    unpaid = (
        scope,
        Suspension.end_reason == SuspensionEnd.REINSTATED,
        Suspension.arrears_amount > 0,
        Suspension.arrears_paid_in_run_id.is_(None),
    )
    # A termination undone after an appeal owes arrears the same way as a reinstated suspension.
    unpaid_restored = (
        in_scope(Termination.region_code, run.region_code),
        Termination.restored_on.is_not(None),
        Termination.arrears_amount > 0,
        Termination.arrears_paid_in_run_id.is_(None),
    )
    arrears = union_all(
        select(Suspension.beneficiary_id, Suspension.arrears_amount.label("amount")).where(*unpaid),
        select(Termination.beneficiary_id, Termination.arrears_amount.label("amount")).where(*unpaid_restored),
    ).subquery()
    owed = (
        select(arrears.c.beneficiary_id, func.sum(arrears.c.amount).label("arrears"))
        .group_by(arrears.c.beneficiary_id)
        .subquery()
    )
    # A terminated person is listed once as terminated, then left out: once per termination, so a person
    # restored on appeal and terminated again is listed again (their earlier line belongs to the earlier one).
    # People terminated without a termination row (a record replaced by a transfer) count any line.
    terminated_since = (
        select(func.max(Termination.approved_at))
        .where(Termination.beneficiary_id == Beneficiary.id, Termination.restored_on.is_(None))
        .scalar_subquery()
    )
    reported_terminated = (
        select(PaymentLine.id)
        .join(PaymentRun, PaymentRun.id == PaymentLine.run_id)
        .where(
            PaymentLine.beneficiary_id == Beneficiary.id,
            PaymentLine.category == PaymentCategory.TERMINATED,
            or_(terminated_since.is_(None), PaymentRun.created_at >= terminated_since),
        )
        .exists()
    )
    terminated = Beneficiary.status == BeneficiaryStatus.TERMINATED
    withheld = terminated | suspended.c.beneficiary_id.is_not(None)
    category = case(
        (terminated, PaymentCategory.TERMINATED.value),
        (suspended.c.beneficiary_id.is_not(None), PaymentCategory.SUSPENDED.value),
        (owed.c.arrears.is_not(None), PaymentCategory.REINSTATED_ARREARS.value),
        else_=PaymentCategory.PAY.value,
    )
    zero = literal(ZERO, Numeric(12, 2))
    lines = (
        select(
            literal(run.id, PaymentLine.run_id.type),
            Beneficiary.id,
            literal(run.period, String(7)),
            category,
            Beneficiary.village_code,
            Beneficiary.name,
            Beneficiary.id_number_masked,
            case((withheld, zero), else_=Beneficiary.monthly_amount),
            case((withheld, zero), else_=func.coalesce(owed.c.arrears, zero)),
        )
        .select_from(Beneficiary)
        .outerjoin(suspended, suspended.c.beneficiary_id == Beneficiary.id)
        .outerjoin(owed, owed.c.beneficiary_id == Beneficiary.id)
        .where(
            in_scope(Beneficiary.village_code, run.region_code),
            Beneficiary.created_at < registered_by,
            ~(terminated & reported_terminated),
            # A held duplicate registration is not paid until the county resolves it; once ended it is
            # reported like any termination.
            Beneficiary.duplicate_of.is_(None) | terminated,
        )
        .order_by(Beneficiary.village_code, Beneficiary.name, Beneficiary.id)
    )
    columns = ("run_id", "beneficiary_id", "period", "category", "village_code", "name", "id_number_masked")
    ctx.session.execute(insert(PaymentLine).from_select([*columns, "amount", "arrears_amount"], lines))
    paid_now = select(PaymentLine.beneficiary_id).where(
        PaymentLine.run_id == run.id, PaymentLine.category == PaymentCategory.REINSTATED_ARREARS
    )
    for owing, still_unpaid in ((Suspension, unpaid), (Termination, unpaid_restored)):
        ctx.session.execute(
            update(owing)
            .where(*still_unpaid, owing.beneficiary_id.in_(paid_now))
            .values(arrears_paid_in_run_id=run.id)
            .execution_options(synchronize_session=False)
        )


EXPORT_BATCH = 5000


def _export_lines(run: PaymentRun) -> Select:
    """The run's lines in the export's order: only the columns the export shows, each as the file shows it
    (the name, the only free text, neutralised: every other cell is a code, a category, an amount or a flag)."""
    name = PaymentLine.name
    return (
        select(
            PaymentLine.village_code,
            case((func.substr(name, 1, 1).in_(FORMULA_LEADS), literal("'") + name), else_=name),
            PaymentLine.id_number_masked,
            type_coerce(PaymentLine.category, String),
            PaymentLine.amount,
            PaymentLine.arrears_amount,
            PaymentLine.amount + PaymentLine.arrears_amount,
            PaymentLine.flag,
        )
        .where(PaymentLine.run_id == run.id)
        .order_by(PaymentLine.village_code, PaymentLine.name, PaymentLine.id)
    )


def _lines_of_run(ctx: Ctx, run: PaymentRun) -> Iterator[Row]:
    return iter(ctx.session.execute(_export_lines(run).execution_options(yield_per=EXPORT_BATCH)))


def _copied(ctx: Ctx, query: Select) -> Iterator[bytes]:
    """PostgreSQL writes the CSV itself (COPY … TO STDOUT): a row through Python costs several times more."""
    sql = query.compile(dialect=ctx.session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    cursor = ctx.session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
        for block in copy:
            yield bytes(block)


def _sums(ctx: Ctx, run: PaymentRun) -> dict[PaymentCategory, tuple[int, Decimal, Decimal]]:
    """Per category: lines, amount, arrears."""
    sums = {category: (0, ZERO, ZERO) for category in PaymentCategory}
    amount, arrears = func.sum(PaymentLine.amount), func.sum(PaymentLine.arrears_amount)
    query = (
        select(PaymentLine.category, func.count(), amount, arrears)
        .where(PaymentLine.run_id == run.id)
        .group_by(PaymentLine.category)
    )
    for category, count, amount_sum, arrears_sum in ctx.session.execute(query):
        sums[PaymentCategory(category)] = (count, Decimal(amount_sum), Decimal(arrears_sum))
    return sums


def _totals(ctx: Ctx, run: PaymentRun) -> list[list[Any]]:
    """A blank row, then totals per category and overall."""
    sums = _sums(ctx, run)
    rows: list[list[Any]] = [[], list(TOTAL_COLUMNS)]
    for category, (count, amount, arrears) in sums.items():
        rows.append([category.value, count, amount, arrears, amount + arrears])
    count = sum(count for count, _amount, _arrears in sums.values())
    rows.append(["all", count, run.total_amount - run.total_arrears, run.total_arrears, run.total_amount])
    return rows


def _csv(ctx: Ctx, run: PaymentRun) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # With a BOM, Excel on Chinese Windows opens the names correctly.
    buffer.write("\ufeff")
    writer.writerow(COLUMNS)
    yield buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    if ctx.session.get_bind().dialect.name == "postgresql":
        yield from _copied(ctx, _export_lines(run))
    else:
        lines = _lines_of_run(ctx, run)
        while batch := list(itertools.islice(lines, EXPORT_BATCH)):
            writer.writerows(batch)
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    writer.writerows(_totals(ctx, run))
    yield buffer.getvalue().encode()


def _xlsx(ctx: Ctx, run: PaymentRun) -> Iterator[bytes]:
    # openpyxl takes a seventh of a second to import: only the exports that ask for Excel pay it.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    # Write-only: rows go to a temporary file as they come, never a workbook of cells in memory.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(run.period)
    money = [WriteOnlyCell(sheet) for _ in range(3)]
    for cell in money:
        cell.number_format = "0.00"

    def styled(row: list[Any]) -> list[Any]:
        for index, value in enumerate(row):
            if isinstance(value, Decimal):
                cell = money[index % 3]
                cell.value = value
                row[index] = cell
        return row

    sheet.append(COLUMNS)
    for line in _lines_of_run(ctx, run):
        sheet.append(styled(list(line)))
    for row in _totals(ctx, run):
        sheet.append(styled(neutral_row(row)))
    with tempfile.TemporaryFile() as spool:
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(1 << 16):
            yield chunk


EXPORT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export(ctx: Ctx, *, actor: Actor, run: PaymentRun, fmt: str) -> tuple[Iterator[bytes], str, str]:
    """The run as CSV or XLSX: (chunks, media type, file name). The export is audited now, so the caller commits
    before it sends the chunks; they read the lines as they are sent (in the same session)."""
    record(
        ctx.session,
        actor=actor,
        action="payment_run.exported",
        object_type="payment_run",
        object_id=run.id,
        region_code=run.region_code,
        details={"format": fmt, "period": run.period, "lines": sum(run.counts.values())},
    )
    chunks = _csv(ctx, run) if fmt == "csv" else _xlsx(ctx, run)
    return chunks, EXPORT_TYPES[fmt], f"payment-run-{run.region_code}-{run.period}.{fmt}"
