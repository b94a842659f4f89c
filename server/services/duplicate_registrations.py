"""Registrations of an ID number already on another township's rolls: held, reviewed by the county, resolved.

A township that registers such a number gets the answer any new registration gets (README, "Registering an ID
number registered elsewhere"): telling it "already registered" would tell a clerk who is on other townships'
rolls. The new record is held instead (`duplicate_of` names the record on the rolls), neither paid nor swept,
and a duplicate_registration case opens at the county, out of every township's sight. A county supervisor
proposes and a second one approves (four eyes, as for a termination):

    transfer: the same person moved. The held record becomes the live one; the old record ends (terminated
              today, its open cases closed, its phone revoked) and points at the record that replaced it.
    refuse:   the registration is refused. The held record is withdrawn (terminated), with the reason.
"""

from __future__ import annotations

from sqlalchemy import select, update

from server.context import Ctx
from server.models import (
    Beneficiary,
    BeneficiaryStatus,
    CaseDecision,
    CaseKind,
    CaseState,
    DecisionKind,
    Device,
    RegionLevel,
    ReviewCase,
    SuspensionEnd,
    utcnow,
)
from server.models.region import CODE_LENGTH
from server.services import suspensions
from server.services.audit import Actor, record
from server.services.cases import UNDECIDED_STATES, close_case, open_case, set_state

RESOLUTIONS = (DecisionKind.TRANSFER, DecisionKind.REFUSE)
CLOSED_BY_TRANSFER = "closed_by_transfer"


def held_ids():
    """SQL: the ids of records held or replaced (a few rows, read from ix_beneficiary_held), which the sweep
    leaves out without giving up its index-only scan of the rolls."""
    return select(Beneficiary.id).where(Beneficiary.duplicate_of.is_not(None))


def hold(ctx: Ctx, *, actor: Actor, held: Beneficiary) -> ReviewCase:
    """Open the county's case for a record just registered as a duplicate of `held.duplicate_of`.

    The case's region is the county, so no township sees it, and nothing is written on the held record
    itself: its page, history and list rows stay those of any new registration.
    """
    live = ctx.session.get(Beneficiary, held.duplicate_of)
    case = open_case(
        ctx.session,
        kind=CaseKind.DUPLICATE_REGISTRATION,
        beneficiary=held,
        region_code=held.village_code[: CODE_LENGTH[RegionLevel.COUNTY]],
        dedupe_key=f"{CaseKind.DUPLICATE_REGISTRATION.value}:{held.id}",
        summary=f"{held.id_number_masked} registered in {held.village_code}, on the rolls in {live.village_code}",
        details={
            "held_id": str(held.id),
            "held_village_code": held.village_code,
            "live_id": str(live.id),
            "live_village_code": live.village_code,
        },
        actor=actor,
    )
    return case


def records(ctx: Ctx, *, case: ReviewCase) -> tuple[Beneficiary, Beneficiary | None]:
    """The case's two records: the one registered (held until resolved) and the one it duplicated."""
    held = ctx.session.get(Beneficiary, case.beneficiary_id)
    return held, ctx.session.get(Beneficiary, case.details["live_id"])


def allowed(case: ReviewCase) -> list[DecisionKind]:
    return list(RESOLUTIONS) if case.state in UNDECIDED_STATES else []


def resolve(ctx: Ctx, *, actor: Actor, case: ReviewCase, decision: CaseDecision) -> None:
    """Apply an approved transfer or refusal. The caller commits."""
    held, live = records(ctx, case=case)
    if decision.decision == DecisionKind.TRANSFER:
        _transfer(ctx, actor=actor, case=case, decision=decision, held=held, live=live)
    else:
        held.status = BeneficiaryStatus.TERMINATED
        held.terminated_on = utcnow().date()
        set_state(case, CaseState.REFUSED, actor=actor, reason=decision.reason)
        record(
            ctx.session,
            actor=actor,
            action="beneficiary.registration_refused",
            object_type="beneficiary",
            object_id=held.id,
            region_code=held.village_code,
            reason=decision.reason,
            details={"case_id": str(case.id), "decision_id": str(decision.id), "duplicate_of": str(live.id)},
        )


def _transfer(
    ctx: Ctx, *, actor: Actor, case: ReviewCase, decision: CaseDecision, held: Beneficiary, live: Beneficiary
) -> None:
    session = ctx.session
    today = utcnow().date()
    ended = live.status != BeneficiaryStatus.TERMINATED
    if ended:
        ongoing = suspensions.ongoing_suspension(ctx, beneficiary_id=live.id)
        if ongoing is not None:
            ongoing.ended_on = today
            ongoing.end_reason = SuspensionEnd.TERMINATED
            ongoing.ended_by = decision.approved_by
        live.status = BeneficiaryStatus.TERMINATED
        live.terminated_on = today
    others = session.scalars(
        select(ReviewCase).where(
            ReviewCase.beneficiary_id == live.id, ReviewCase.state.in_((*UNDECIDED_STATES, CaseState.SUSPENDED))
        )
    ).all()
    for other in others:
        close_case(
            session,
            case=other,
            actor=actor,
            state=CaseState.DISMISSED,
            reason=CLOSED_BY_TRANSFER,
            details={"by_case_id": str(case.id)},
        )
    # The old phone acts for a record that ended: the person activates a phone for the new one.
    session.execute(
        update(Device)
        .where(Device.beneficiary_id == live.id, Device.revoked_at.is_(None))
        .values(revoked_at=utcnow(), activation_code_index=None)
        .execution_options(synchronize_session=False)
    )
    # The ID number stays unique among records not held: the old one leaves that set before the new one joins.
    live.duplicate_of = held.id
    session.flush()
    held.duplicate_of = None
    set_state(case, CaseState.TRANSFERRED, actor=actor, reason=decision.reason)
    session.flush()
    details = {"case_id": str(case.id), "decision_id": str(decision.id)}
    record(
        session,
        actor=actor,
        action="beneficiary.moved_away",
        object_type="beneficiary",
        object_id=live.id,
        region_code=live.village_code,
        reason=decision.reason,
        details={**details, "replaced_by": str(held.id), "terminated": ended, "other_cases_closed": len(others)},
    )
    record(
        session,
        actor=actor,
        action="beneficiary.moved_in",
        object_type="beneficiary",
        object_id=held.id,
        region_code=held.village_code,
        reason=decision.reason,
        details={**details, "replaces": str(live.id)},
    )
