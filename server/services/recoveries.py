"""Payments to recover: money paid for months after a person's assistance ended.

Whenever a termination takes effect (a death record, a visit finding, any decision), every payment
line that paid anything for a month after the effective date is flagged, in runs built before or
after it: a run built before paid the person in good faith; a run built afterwards lists a terminated
person with nothing to pay, so it adds nothing to recover. The month that holds the effective date
was due (for a death: the person died in it). A death record names a date that can be earlier than
the termination a visit made, so it flags from its own date, even for a person already terminated.
The recovery list gathers the flagged lines per person: who, which months, how much.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.context import Ctx
from server.models import Beneficiary, PaymentLine
from server.services.audit import Actor, record
from server.services.errors import DomainError
from server.services.months import period_of
from server.services.regions import in_scope, within

PAID_AFTER_DEATH = "paid_after_death"
PAID_AFTER_TERMINATION = "paid_after_termination"
FLAGS = (PAID_AFTER_DEATH, PAID_AFTER_TERMINATION)
CSV_COLUMNS = ("village_code", "name", "id_number_masked", "terminated_on", "flag", "months", "amount")


def flag_payments_after(
    session: Session, *, actor: Actor, beneficiary: Beneficiary, effective_on: date, flag: str
) -> list[PaymentLine]:
    """Flag every line that paid the person for a month after `effective_on`; returns those lines.

    A line already flagged as paid after a death keeps that flag (it says more). Audited when any
    line is newly flagged; the caller commits."""
    lines = session.scalars(
        select(PaymentLine)
        .where(PaymentLine.beneficiary_id == beneficiary.id, PaymentLine.period > period_of(effective_on))
        .order_by(PaymentLine.period)
    ).all()
    paid = [line for line in lines if line.amount + line.arrears_amount > 0]
    changed = [line for line in paid if line.flag != flag and line.flag != PAID_AFTER_DEATH]
    for line in changed:
        line.flag = flag
    if changed:
        record(
            session,
            actor=actor,
            action="payment_line.flagged",
            object_type="beneficiary",
            object_id=beneficiary.id,
            region_code=beneficiary.village_code,
            details={"flag": flag, "periods": [line.period for line in changed]},
        )
    return paid


def clear_flags_after(session: Session, *, actor: Actor, beneficiary: Beneficiary, effective_on: date) -> int:
    """A termination undone (the person proved alive): the months paid after it were due, nothing to recover.
    Audited when any flag is cleared; returns how many."""
    lines = session.scalars(
        select(PaymentLine).where(
            PaymentLine.beneficiary_id == beneficiary.id,
            PaymentLine.period > period_of(effective_on),
            PaymentLine.flag.in_(FLAGS),
        )
    ).all()
    for line in lines:
        line.flag = None
    if lines:
        record(
            session,
            actor=actor,
            action="payment_line.unflagged",
            object_type="beneficiary",
            object_id=beneficiary.id,
            region_code=beneficiary.village_code,
            details={"periods": sorted(line.period for line in lines)},
        )
    return len(lines)


@dataclass(frozen=True)
class RecoveryMonth:
    period: str
    run_id: uuid.UUID
    amount: Decimal
    flag: str


@dataclass(frozen=True)
class Recovery:
    beneficiary_id: uuid.UUID
    village_code: str
    name: str
    id_number_masked: str
    terminated_on: date | None
    months: list[RecoveryMonth]

    @property
    def amount(self) -> Decimal:
        """The whole sum to recover from this person's estate or household."""
        return sum((month.amount for month in self.months), Decimal("0.00"))


def recoveries(ctx: Ctx, *, actor: Actor, region_code: str) -> list[Recovery]:
    """Everyone in the region with flagged payments, by village and name, their months oldest first."""
    if not within(actor.region_code, region_code):
        raise DomainError.field("region", "unknown_region", "no such region in your scope")
    rows = ctx.session.execute(
        select(PaymentLine, Beneficiary.terminated_on)
        .join(Beneficiary, Beneficiary.id == PaymentLine.beneficiary_id)
        .where(PaymentLine.flag.in_(FLAGS), in_scope(PaymentLine.village_code, region_code))
        .order_by(PaymentLine.village_code, PaymentLine.name, PaymentLine.beneficiary_id, PaymentLine.period)
    ).all()
    grouped: dict[uuid.UUID, list[tuple[PaymentLine, date | None]]] = defaultdict(list)
    for line, terminated_on in rows:
        grouped[line.beneficiary_id].append((line, terminated_on))
    result = []
    for beneficiary_id, lines in grouped.items():
        # The latest line carries the name and village the payer knows the person by now.
        last, terminated_on = lines[-1]
        months = [
            RecoveryMonth(line.period, line.run_id, line.amount + line.arrears_amount, line.flag) for line, _ in lines
        ]
        result.append(
            Recovery(beneficiary_id, last.village_code, last.name, last.id_number_masked, terminated_on, months)
        )
    return result


def recoveries_csv(ctx: Ctx, *, actor: Actor, region_code: str, items: list[Recovery]) -> bytes:
    """The recovery list as CSV (one row per person, the total last); the export is audited."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        writer.writerow(
            [
                item.village_code,
                item.name,
                item.id_number_masked,
                item.terminated_on.isoformat() if item.terminated_on else "",
                # A person can have months flagged after a death and others after a termination.
                ";".join(sorted({month.flag for month in item.months})),
                ";".join(month.period for month in item.months),
                item.amount,
            ]
        )
    writer.writerow(
        ["all", "", "", "", "", sum(len(i.months) for i in items), sum((i.amount for i in items), Decimal("0.00"))]
    )
    record(
        ctx.session,
        actor=actor,
        action="payment_recoveries.exported",
        object_type="report",
        object_id=uuid.uuid4(),
        region_code=region_code,
        details={"people": len(items)},
    )
    # With a BOM, Excel on Chinese Windows opens the names correctly.
    return buffer.getvalue().encode("utf-8-sig")
