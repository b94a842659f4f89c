"""Review cases: opening them idempotently and listing the queue."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from server.context import Ctx
from server.db import PageRequest, fetch_page
from server.models import (
    Beneficiary,
    CaseDecision,
    CaseKind,
    CaseState,
    DecisionKind,
    DecisionStatus,
    ReviewCase,
    utcnow,
)
from server.services.audit import Actor, record
from server.services.cycles import office_today
from server.services.errors import NotFound
from server.services.regions import in_scope

# Peers promise a human look within three working days.
REVIEW_WORKING_DAYS = 3
UNDECIDED_STATES = (CaseState.OPEN, CaseState.EXTENDED)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days (Monday to Friday) after `start`."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def open_case(
    ctx: Ctx,
    *,
    kind: CaseKind,
    beneficiary: Beneficiary,
    dedupe_key: str,
    summary: str,
    details: dict[str, Any],
    actor: Actor | None = None,
    region_code: str | None = None,
) -> ReviewCase | None:
    """Open a case unless one with the same dedupe key exists; returns the new case or None.

    The case lies in the beneficiary's village unless `region_code` puts it higher, out of lower levels' sight
    (a duplicate_registration case, which only the county may see)."""
    if ctx.session.scalar(select(ReviewCase.id).where(ReviewCase.dedupe_key == dedupe_key)) is not None:
        return None
    actor = actor or Actor.system()
    case = ReviewCase(
        kind=kind,
        beneficiary_id=beneficiary.id,
        region_code=region_code or beneficiary.village_code,
        dedupe_key=dedupe_key,
        summary=summary,
        details=details,
        due_on=add_working_days(office_today(ctx.settings), REVIEW_WORKING_DAYS),
        opened_by=uuid.UUID(actor.id) if actor.kind == "staff" else None,
    )
    ctx.session.add(case)
    ctx.session.flush()
    record(
        ctx.session,
        actor=actor,
        action="case.opened",
        object_type="review_case",
        object_id=case.id,
        region_code=case.region_code,
        details={"kind": kind.value, "beneficiary_id": str(beneficiary.id)},
    )
    return case


@dataclass(frozen=True)
class CaseFilters:
    kind: CaseKind | None = None
    state: CaseState | None = None
    beneficiary_id: uuid.UUID | None = None
    assigned_to: uuid.UUID | None = None
    region: str | None = None
    due_before: date | None = None
    # Open or extended: what still needs a decision (the queue's default view).
    undecided: bool = False


def _filtered(query: Select, actor: Actor, filters: CaseFilters) -> Select:
    query = query.where(in_scope(ReviewCase.region_code, actor.region_code))
    if filters.kind:
        query = query.where(ReviewCase.kind == filters.kind)
    if filters.state:
        query = query.where(ReviewCase.state == filters.state)
    if filters.undecided:
        query = query.where(ReviewCase.state.in_(UNDECIDED_STATES))
    if filters.beneficiary_id:
        query = query.where(ReviewCase.beneficiary_id == filters.beneficiary_id)
    if filters.assigned_to:
        query = query.where(ReviewCase.assigned_to == filters.assigned_to)
    if filters.region:
        query = query.where(in_scope(ReviewCase.region_code, filters.region))
    if filters.due_before:
        query = query.where(ReviewCase.due_on <= filters.due_before)
    return query


# Soonest due first, which ix_review_case_list holds with the scope column.
LIST_ORDER = (ReviewCase.due_on, ReviewCase.created_at, ReviewCase.id)


def list_cases(
    ctx: Ctx,
    *,
    actor: Actor,
    filters: CaseFilters,
    page: PageRequest,
) -> tuple[list[ReviewCase], int]:
    """A page of the actor's queue, soonest due first, and the total (see fetch_page)."""
    return fetch_page(
        ctx.session,
        _filtered(select(ReviewCase), actor, filters),
        order_by=LIST_ORDER,
        page=page,
    )


def queue_page(
    ctx: Ctx, *, actor: Actor, filters: CaseFilters, offset: int, limit: int
) -> tuple[list[ReviewCase], int, dict[str, int]]:
    """A page of the queue, its total and the count per kind, in two queries: the total is the kind's count
    (or their sum), so the queue is not counted twice."""
    counts = count_by_kind(ctx, actor=actor, filters=filters)
    total = counts.get(filters.kind.value, 0) if filters.kind else sum(counts.values())
    query = _filtered(select(ReviewCase), actor, filters)
    order = (ReviewCase.due_on, ReviewCase.created_at, ReviewCase.id)
    return list(ctx.session.scalars(query.order_by(*order).offset(offset).limit(limit))), total, counts


def count_by_kind(ctx: Ctx, *, actor: Actor, filters: CaseFilters) -> dict[str, int]:
    """How many of the actor's cases match the filters (all kinds, whatever filters.kind says), per kind."""
    query = _filtered(select(ReviewCase.kind, func.count()), actor, replace(filters, kind=None))
    return {kind.value: count for kind, count in ctx.session.execute(query.group_by(ReviewCase.kind))}


def open_and_overdue(
    ctx: Ctx, *, actor: Actor, region: str | None, today: date
) -> tuple[dict[str, int], dict[str, int]]:
    """Per kind, the cases still needing a decision and those of them past their due date, in one query."""
    overdue = func.sum(sql_case((ReviewCase.due_on < today, 1), else_=0))
    query = _filtered(select(ReviewCase.kind, func.count(), overdue), actor, CaseFilters(undecided=True, region=region))
    rows = ctx.session.execute(query.group_by(ReviewCase.kind)).all()
    return {kind.value: n for kind, n, _ in rows}, {kind.value: late for kind, _, late in rows}


def set_state(case: ReviewCase, state: CaseState, *, actor: Actor, reason: str) -> None:
    """Move a case to a decided state, noting who decided and why (the decision history keeps the rest)."""
    case.state = state
    case.decided_at = utcnow()
    case.decided_by = uuid.UUID(actor.id) if actor.kind == "staff" else None
    case.decision_reason = reason


def get_case(ctx: Ctx, *, actor: Actor, case_id: uuid.UUID) -> ReviewCase:
    case = ctx.session.scalar(
        select(ReviewCase).where(ReviewCase.id == case_id, in_scope(ReviewCase.region_code, actor.region_code))
    )
    if case is None:
        raise NotFound("case not found", {"case_id": ["not_found"]})
    return case


def close_case(
    session: Session, *, case: ReviewCase, actor: Actor, state: CaseState, reason: str, details: dict[str, Any]
) -> CaseDecision:
    """Close a case because something outside it settled the question (a verified check-in, the person's
    termination or restoration through another case): a history row with the reason code, any proposal
    awaiting approval voided, one audit entry. The caller commits."""
    pending = session.scalar(
        select(CaseDecision).where(CaseDecision.case_id == case.id, CaseDecision.status == DecisionStatus.PENDING)
    )
    if pending is not None:
        pending.status = DecisionStatus.REJECTED
        pending.rejected_at = utcnow()
        pending.review_reason = reason
    row = CaseDecision(
        case_id=case.id,
        decision=DecisionKind.DISMISS,
        status=DecisionStatus.APPLIED,
        proposed_by=uuid.UUID(actor.id) if actor.kind == "staff" else None,
        reason=reason,
        params=details,
    )
    session.add(row)
    set_state(case, state, actor=actor, reason=reason)
    session.flush()
    record(
        session,
        actor=actor,
        action="case.closed",
        object_type="review_case",
        object_id=case.id,
        region_code=case.region_code,
        reason=reason,
        details={**details, "decision_id": str(row.id), "state": state.value},
    )
    return row
