"""Imported evidence: proof of life from another source (hospital, bank, pension office) for a cycle."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import StatementError

from server.context import Ctx
from server.db import savepoint
from server.models import Cycle, CycleEvidence
from server.schemas.cycle import EvidenceRowSchema
from server.services.audit import Actor, record
from server.services.beneficiaries import ImportRowResult, error_row, find_by_id_number
from server.services.csv_rows import read_rows
from server.services.errors import DomainError
from server.services.regions import within

COLUMNS = ("id_number", "source", "reference")
_row_schema = EvidenceRowSchema()


def read_evidence(data: bytes) -> list[tuple[int, dict[str, Any], bool]]:
    """(line number, loaded row or field errors, valid) for each data row of an evidence CSV."""
    return list(read_rows(data, _row_schema, required=COLUMNS, what="evidence (id_number, source, reference)"))


def _import_row(ctx: Ctx, actor: Actor, cycle: Cycle, number: int, data: dict[str, Any]) -> ImportRowResult:
    try:
        beneficiary = find_by_id_number(ctx, id_number=data["id_number"], region_code=actor.region_code)
    except DomainError as exc:
        return error_row(number, exc.errors)
    # Someone outside the caller's region looks exactly like someone unknown.
    if beneficiary is None or not within(actor.region_code, beneficiary.village_code):
        return error_row(number, {"id_number": ["not_found"]})
    in_cycle = within(cycle.region_code, beneficiary.village_code) and cycle.program in (None, beneficiary.program)
    if not in_cycle:
        return error_row(number, {"id_number": ["not_in_cycle"]})
    key = (CycleEvidence.beneficiary_id == beneficiary.id, CycleEvidence.cycle_id == cycle.id)
    existing = ctx.session.scalar(
        select(CycleEvidence.id).where(
            *key, CycleEvidence.source == data["source"], CycleEvidence.reference == data["reference"]
        )
    )
    if existing is not None:
        return ImportRowResult(row=number, status="unchanged", beneficiary_id=beneficiary.id)
    evidence = CycleEvidence(
        beneficiary_id=beneficiary.id,
        cycle_id=cycle.id,
        source=data["source"],
        reference=data["reference"],
        imported_by=uuid.UUID(actor.id) if actor.kind == "staff" else None,
    )
    ctx.session.add(evidence)
    ctx.session.flush()
    record(
        ctx.session,
        actor=actor,
        action="evidence.imported",
        object_type="cycle_evidence",
        object_id=evidence.id,
        region_code=beneficiary.village_code,
        details={"beneficiary_id": str(beneficiary.id), "cycle_id": str(cycle.id), "source": data["source"]},
    )
    return ImportRowResult(row=number, status="created", beneficiary_id=beneficiary.id)


def import_evidence_batch(
    ctx: Ctx, *, actor: Actor, cycle: Cycle, rows: list[tuple[int, dict, bool]]
) -> list[ImportRowResult]:
    """One result per row, each row in a savepoint (a row the database refuses is reported). Flushes only."""
    results = []
    for number, data, valid in rows:
        if not valid:
            results.append(error_row(number, data))
            continue
        try:
            with savepoint(ctx.session):
                results.append(_import_row(ctx, actor, cycle, number, data))
        except StatementError:
            results.append(error_row(number, {"_": ["rejected_by_database"]}))
    return results
