"""Death records from the civil registry or a funeral service: each match opens a `death_record` case that
proposes termination from the date of death, and payments for months after the death are flagged.

A payment is flagged `paid_after_death` when it paid anything for a period after the month of death:
the month in which the person died was due to them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from server.crypto import DataCipher
from server.models import BeneficiaryStatus, CaseKind, PaymentLine, utcnow
from server.schemas.death import DeathRowSchema
from server.services.audit import Actor, record
from server.services.beneficiaries import find_by_id_number
from server.services.cases import open_case
from server.services.csv_rows import read_rows
from server.services.errors import DomainError
from server.services.months import period_of
from server.services.regions import within

PAID_AFTER_DEATH = "paid_after_death"
REQUIRED_COLUMNS = ("id_number", "date_of_death")
_row_schema = DeathRowSchema()
STATUSES = ("case_opened", "already_recorded", "already_terminated", "no_match", "error")


def read_death_records(data: bytes) -> Iterator[tuple[int, dict[str, Any], bool]]:
    """Yield (line number, loaded row or field errors, valid) for each data row."""
    return read_rows(data, _row_schema, required=REQUIRED_COLUMNS, what="death-record")


@dataclass
class DeathRowResult:
    row: int
    status: str
    case_id: uuid.UUID | None = None
    flagged_payments: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)


def _flag_payments_after(session: Session, beneficiary_id: uuid.UUID, date_of_death: date) -> list[PaymentLine]:
    lines = session.scalars(
        select(PaymentLine)
        .where(PaymentLine.beneficiary_id == beneficiary_id, PaymentLine.period > period_of(date_of_death))
        .order_by(PaymentLine.period)
    ).all()
    paid = [line for line in lines if line.amount + line.arrears_amount > 0]
    for line in paid:
        line.flag = PAID_AFTER_DEATH
    return paid


def _import_row(
    session: Session, cipher: DataCipher, actor: Actor, number: int, data: dict[str, Any]
) -> DeathRowResult:
    died = data["date_of_death"]
    if died > utcnow().date():
        return DeathRowResult(row=number, status="error", errors=[{"field": "date_of_death", "reason": "in_future"}])
    beneficiary = find_by_id_number(session, cipher, data["id_number"])
    # Most registry rows are not beneficiaries; one outside the importer's region looks the same.
    if beneficiary is None or not within(actor.region_code, beneficiary.village_code):
        return DeathRowResult(row=number, status="no_match")
    if beneficiary.status == BeneficiaryStatus.TERMINATED:
        return DeathRowResult(row=number, status="already_terminated")
    paid = _flag_payments_after(session, beneficiary.id, died)
    payments = [
        {"run_id": str(line.run_id), "period": line.period, "amount": str(line.amount + line.arrears_amount)}
        for line in paid
    ]
    case = open_case(
        session,
        kind=CaseKind.DEATH_RECORD,
        beneficiary=beneficiary,
        dedupe_key=f"death_record:{beneficiary.id}:{died.isoformat()}",
        summary=f"Death recorded on {died.isoformat()}: terminate from the date of death",
        details={
            "date_of_death": died.isoformat(),
            "source": data.get("source"),
            "reference": data.get("reference"),
            "proposal": {"decision": "terminate", "effective_on": died.isoformat()},
            "payments_after_death": payments,
        },
        actor=actor,
    )
    if paid:
        record(
            session,
            actor=actor,
            action="payment_line.flagged",
            object_type="beneficiary",
            object_id=beneficiary.id,
            region_code=beneficiary.village_code,
            details={"flag": PAID_AFTER_DEATH, "periods": [line.period for line in paid]},
        )
    if case is None:
        return DeathRowResult(row=number, status="already_recorded", flagged_payments=len(paid))
    return DeathRowResult(row=number, status="case_opened", case_id=case.id, flagged_payments=len(paid))


def import_death_batch(
    session: Session, cipher: DataCipher, *, actor: Actor, rows: list[tuple[int, dict[str, Any], bool]]
) -> list[DeathRowResult]:
    """Match each record of a batch, each in a savepoint (a row the database refuses is reported, the
    others stay), and audit the batch in one entry. Flushes, never commits."""
    results = []
    for number, data, valid in rows:
        if not valid:
            errors = [
                {"field": name, "reason": str(reason)}
                for name, reasons in data.items()
                for reason in (reasons if isinstance(reasons, list) else [reasons])
            ]
            results.append(DeathRowResult(row=number, status="error", errors=errors))
            continue
        try:
            with session.begin_nested():
                results.append(_import_row(session, cipher, actor, number, data))
        except DomainError as exc:
            errors = [{"field": name, "reason": reason} for name, reasons in exc.errors.items() for reason in reasons]
            results.append(DeathRowResult(row=number, status="error", errors=errors))
        except StatementError:
            results.append(
                DeathRowResult(row=number, status="error", errors=[{"field": "_", "reason": "rejected_by_database"}])
            )
    record(
        session,
        actor=actor,
        action="death_records.imported",
        object_type="import",
        object_id=uuid.uuid4(),
        region_code=actor.region_code,
        details={status: sum(1 for r in results if r.status == status) for status in STATUSES},
    )
    return results


def import_deaths(session: Session, cipher: DataCipher, *, actor: Actor, rows) -> dict[str, Any]:
    """Match each record to a beneficiary in the actor's region; importing a file twice changes nothing. Commits."""
    results = import_death_batch(session, cipher, actor=actor, rows=list(rows))
    session.commit()
    return summarise([asdict(r) for r in results])


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts per outcome and every row's result."""
    counts = {status: sum(1 for r in rows if r["status"] == status) for status in STATUSES}
    return {
        "case_opened": counts["case_opened"],
        "already_recorded": counts["already_recorded"],
        "already_terminated": counts["already_terminated"],
        "no_match": counts["no_match"],
        "failed": counts["error"],
        "flagged_payments": sum(r["flagged_payments"] for r in rows),
        "rows": rows,
    }
