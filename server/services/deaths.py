"""Death records from the civil registry or a funeral service: each match opens a `death_record` case that
proposes termination from the date of death, and payments for months after the death are flagged.

A payment is flagged `paid_after_death` when it paid anything for a period after the month of death:
the month in which the person died was due to them. A person already terminated (say, by a visit that
found them dead) is flagged too: the recorded death may be earlier than that termination.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.exc import StatementError

from server.context import Ctx
from server.db import savepoint
from server.models import BeneficiaryStatus, CaseKind
from server.schemas.death import DeathRowSchema
from server.services.audit import Actor, record
from server.services.beneficiaries import find_by_id_number
from server.services.cases import open_case
from server.services.csv_rows import read_rows
from server.services.cycles import office_today
from server.services.errors import DomainError
from server.services.recoveries import PAID_AFTER_DEATH, flag_payments_after
from server.services.regions import within

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


def _import_row(ctx: Ctx, actor: Actor, number: int, data: dict[str, Any]) -> DeathRowResult:
    died = data["date_of_death"]
    if died > office_today(ctx.settings):
        return DeathRowResult(row=number, status="error", errors=[{"field": "date_of_death", "reason": "in_future"}])
    beneficiary = find_by_id_number(ctx, id_number=data["id_number"], region_code=actor.region_code)
    # Most registry rows are not beneficiaries; one outside the importer's region looks the same.
    if beneficiary is None or not within(actor.region_code, beneficiary.village_code):
        return DeathRowResult(row=number, status="no_match")
    paid = flag_payments_after(
        ctx.session, actor=actor, beneficiary=beneficiary, effective_on=died, flag=PAID_AFTER_DEATH
    )
    if beneficiary.status == BeneficiaryStatus.TERMINATED:
        return DeathRowResult(row=number, status="already_terminated", flagged_payments=len(paid))
    payments = [
        {"run_id": str(line.run_id), "period": line.period, "amount": str(line.amount + line.arrears_amount)}
        for line in paid
    ]
    case = open_case(
        ctx,
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
    if case is None:
        return DeathRowResult(row=number, status="already_recorded", flagged_payments=len(paid))
    return DeathRowResult(row=number, status="case_opened", case_id=case.id, flagged_payments=len(paid))


def import_death_batch(ctx: Ctx, *, actor: Actor, rows: list[tuple[int, dict[str, Any], bool]]) -> list[DeathRowResult]:
    """Match each record of a batch, each in a savepoint (a row the database refuses is reported, the
    others stay), and audit the batch in one entry. Flushes only: the caller's unit commits."""
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
            with savepoint(ctx.session):
                results.append(_import_row(ctx, actor, number, data))
        except DomainError as exc:
            errors = [{"field": name, "reason": reason} for name, reasons in exc.errors.items() for reason in reasons]
            results.append(DeathRowResult(row=number, status="error", errors=errors))
        except StatementError:
            results.append(
                DeathRowResult(row=number, status="error", errors=[{"field": "_", "reason": "rejected_by_database"}])
            )
    record(
        ctx.session,
        actor=actor,
        action="death_records.imported",
        object_type="import",
        object_id=uuid.uuid4(),
        region_code=actor.region_code,
        details={status: sum(1 for r in results if r.status == status) for status in STATUSES},
    )
    return results


def import_deaths(ctx: Ctx, *, actor: Actor, rows) -> dict[str, Any]:
    """Match each record to a beneficiary in the actor's region; importing a file twice changes nothing."""
    results = import_death_batch(ctx, actor=actor, rows=list(rows))
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
