"""Exemptions: approved reasons a person need not check in (institution care, hospital, work away)."""

from __future__ import annotations

import uuid
from datetime import date

from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from server.context import Ctx
from server.models import Beneficiary, Exemption, ExemptionKind, ReviewCase
from server.services.audit import Actor, record
from server.services.errors import DomainError, Forbidden

# An approved temporary absence for work lasts 3 to 12 months.
WORK_ABSENCE_MONTHS = (3, 12)


def check_span(kind: ExemptionKind, starts_on: date, ends_on: date, *, field: str = "ends_on") -> None:
    """Refuse a period that ends before it starts, or an absence for work outside 3 to 12 months."""
    if ends_on < starts_on:
        raise DomainError.field(field, "before_start", "the exemption ends before it starts")
    if kind == ExemptionKind.WORK_ABSENCE:
        shortest, longest = (starts_on + relativedelta(months=m) for m in WORK_ABSENCE_MONTHS)
        if not shortest <= ends_on <= longest:
            raise DomainError.field(field, "work_absence_span", "an absence for work must last from 3 to 12 months")


def grant_exemption(
    ctx: Ctx,
    *,
    actor: Actor,
    beneficiary: Beneficiary,
    kind: ExemptionKind,
    starts_on: date,
    ends_on: date,
    reason: str,
    evidence: str | None = None,
    case_id: uuid.UUID | None = None,
) -> Exemption:
    """Record an exemption approved by a staff member: it satisfies a cycle whose deadline it covers and
    moves the person's deadline in one where it ends earlier (server.services.cycles.moved_days)."""
    if actor.kind != "staff":
        raise Forbidden("only staff approve exemptions", {"authorization": ["role_not_allowed"]})
    check_span(kind, starts_on, ends_on)
    if case_id is not None:
        case = ctx.session.get(ReviewCase, case_id)
        if case is None or case.beneficiary_id != beneficiary.id:
            raise DomainError.field("case_id", "not_this_beneficiary", "the case is not this beneficiary's")
    exemption = Exemption(
        beneficiary_id=beneficiary.id,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason,
        evidence=evidence,
        approved_by=uuid.UUID(actor.id),
        case_id=case_id,
    )
    ctx.session.add(exemption)
    ctx.session.flush()
    record(
        ctx.session,
        actor=actor,
        action="exemption.granted",
        object_type="exemption",
        object_id=exemption.id,
        region_code=beneficiary.village_code,
        reason=reason,
        details={
            "beneficiary_id": str(beneficiary.id),
            "kind": kind.value,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
            "case_id": str(case_id) if case_id else None,
        },
    )
    return exemption


def list_exemptions(ctx: Ctx, *, beneficiary: Beneficiary) -> list[Exemption]:
    """A beneficiary's exemptions, latest first."""
    return list(
        ctx.session.scalars(
            select(Exemption)
            .where(Exemption.beneficiary_id == beneficiary.id)
            .order_by(Exemption.starts_on.desc(), Exemption.id)
        )
    )
