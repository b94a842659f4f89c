"""The cases a visit's outcome calls for (a death, a move, repeated absence) and whom a visit concerns."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select

from server.context import Ctx
from server.models import Beneficiary, CaseKind, Visit, VisitOutcome
from server.services import cycles
from server.services.audit import Actor
from server.services.cases import open_case


def members_of(ctx: Ctx, *, visit: Visit) -> list[Beneficiary]:
    """The people a visit concerns: its beneficiary, or the household's members in the visit's village."""
    if visit.beneficiary_id is not None:
        return [ctx.session.get(Beneficiary, visit.beneficiary_id)]
    return list(
        ctx.session.scalars(
            select(Beneficiary)
            .where(Beneficiary.household_code == visit.household_code, Beneficiary.village_code == visit.region_code)
            .order_by(Beneficiary.id)
        )
    )


def open_findings(ctx: Ctx, *, actor: Actor, visit: Visit, members: list[Beneficiary]) -> None:
    """Open the cases an outcome calls for; each is idempotent, so an edit or a retry opens none twice."""
    base = {
        "visit_id": str(visit.id),
        "field_worker_id": str(visit.field_worker_id),
        "visited_on": visit.started_at.date().isoformat(),
        "finding": visit.outcome.value,
    }
    if visit.outcome == VisitOutcome.DECEASED:
        open_case(
            ctx,
            kind=CaseKind.VISIT_FINDING,
            beneficiary=members[0],
            dedupe_key=f"visit_finding:{visit.id}:deceased",
            summary="A field worker found this person deceased: confirm the death and terminate the assistance",
            details={**base, "proposed_action": "terminate"},
            actor=actor,
        )
    elif visit.outcome == VisitOutcome.MOVED_AWAY:
        for member in members:
            open_case(
                ctx,
                kind=CaseKind.VISIT_FINDING,
                beneficiary=member,
                dedupe_key=f"visit_finding:{visit.id}:moved_away:{member.id}",
                summary="A field worker found that this person moved away: review where they live and qualify",
                details={**base, "proposed_action": "review_eligibility"},
                actor=actor,
            )
    elif visit.outcome == VisitOutcome.ABSENT:
        zone = cycles.office_zone(ctx.settings)
        for member in members:
            period = cycles.period_for(
                ctx, beneficiary=member, on_date=visit.started_at.astimezone(zone).date(), zone=zone
            )
            absences = _absences(ctx, member, period)
            if len(absences) < 2:
                continue
            open_case(
                ctx,
                kind=CaseKind.VISIT_FINDING,
                beneficiary=member,
                dedupe_key=f"visit_finding:absent:{member.id}:{period.key}",
                summary=f"Not at home on {len(absences)} visits this cycle: find out whether they still live here",
                details={
                    **base,
                    "cycle": period.key,
                    "absent_visit_ids": [str(v) for v in absences],
                    "proposed_action": "review_eligibility",
                },
                actor=actor,
            )


def about(member: Beneficiary):
    """Visits that concern a person: to them, or to their household without naming anyone."""
    own = Visit.beneficiary_id == member.id
    if member.household_code is None:
        return own
    household = (
        Visit.beneficiary_id.is_(None)
        & (Visit.household_code == member.household_code)
        & (Visit.region_code == member.village_code)
    )
    return or_(own, household)


def _absences(ctx: Ctx, member: Beneficiary, period: cycles.Period) -> list[uuid.UUID]:
    start, end = period.start, period.end
    return list(
        ctx.session.scalars(
            select(Visit.id)
            .where(
                about(member),
                Visit.outcome == VisitOutcome.ABSENT,
                Visit.quarantined.is_(False),
                Visit.started_at >= start,
                Visit.started_at < end,
            )
            .order_by(Visit.started_at)
        )
    )
