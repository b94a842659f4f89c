"""Registrations of an ID number already on another township's rolls: held, reviewed by the county, resolved.

A township that registers such a number gets the answer any new registration gets (README, "Registering an ID
number registered elsewhere"): telling it "already registered" would tell a clerk who is on other townships'
rolls. The new record is held instead (`duplicate_of` names the record on the rolls), neither paid nor swept,
and within the hour a duplicate_registration case opens at the county, out of every township's sight. A county
supervisor proposes and a second one approves (four eyes, as for a termination):

    transfer: the same person moved. The held record becomes the live one; the old record ends (terminated
              today, its open cases closed, its phone revoked) and points at the record that replaced it.
    refuse:   the registration is refused. The held record is withdrawn (terminated), with the reason.
"""

from __future__ import annotations

from sqlalchemy import Select, select, update

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
from server.services import cycles, suspensions
from server.services.audit import Actor, record
from server.services.cases import UNDECIDED_STATES, close_case, open_case, set_state
from server.services.errors import Conflict
from server.services.regions import within

KIND = CaseKind.DUPLICATE_REGISTRATION
RESOLUTIONS = (DecisionKind.TRANSFER, DecisionKind.REFUSE)
CLOSED_BY_TRANSFER = "closed_by_transfer"


def held_ids() -> Select:
    """SQL: the ids of records held or replaced (a few rows, read from ix_beneficiary_held), which the sweep
    leaves out without giving up its index-only scan of the rolls."""
    return select(Beneficiary.id).where(Beneficiary.duplicate_of.is_not(None))


def open_cases(ctx: Ctx) -> int:
    """Open the county's case for every held record that has none yet; returns how many opened. Idempotent.

    Run by the beat, apart from the registration: a case opened in the same request would put its audit
    entry (and its time) right after the registration's, a gap in the sequence numbers the township sees on
    the person's page. Nothing is written on the held record itself: its page, history and list rows stay
    those of any new registration.
    """
    held = ctx.session.scalars(
        select(Beneficiary)
        .where(
            Beneficiary.id.in_(held_ids()),
            Beneficiary.status != BeneficiaryStatus.TERMINATED,
            ~select(ReviewCase.id).where(ReviewCase.beneficiary_id == Beneficiary.id, ReviewCase.kind == KIND).exists(),
        )
        .order_by(Beneficiary.created_at)
    ).all()
    for person in held:
        _open_case(ctx, held=person)
    return len(held)


def _open_case(ctx: Ctx, *, held: Beneficiary) -> None:
    live = ctx.session.get(Beneficiary, held.duplicate_of)
    open_case(
        ctx,
        kind=KIND,
        beneficiary=held,
        region_code=held.village_code[: CODE_LENGTH[RegionLevel.COUNTY]],
        dedupe_key=f"{KIND.value}:{held.id}",
        summary=f"{held.id_number_masked} registered in {held.village_code}, on the rolls in {live.village_code}",
        details={"live_id": str(live.id), "live_village_code": live.village_code},
    )


def records(ctx: Ctx, *, case: ReviewCase, actor: Actor | None = None) -> tuple[Beneficiary, Beneficiary | None]:
    """The case's two records: the one registered (held until resolved) and the one it duplicated, which is
    None for an actor whose region does not hold it (a record in another county)."""
    held = ctx.session.get(Beneficiary, case.beneficiary_id)
    live = ctx.session.get(Beneficiary, case.details["live_id"])
    if actor is not None and not within(actor.region_code, live.village_code):
        live = None
    return held, live


def allowed(case: ReviewCase) -> list[DecisionKind]:
    return list(RESOLUTIONS) if case.state in UNDECIDED_STATES else []


def resolve(ctx: Ctx, *, actor: Actor, case: ReviewCase, decision: CaseDecision) -> None:
    """Apply an approved transfer or refusal (the county decided: the old record is ended wherever it lies).
    The caller commits."""
    held, live = records(ctx, case=case)
    if decision.decision == DecisionKind.TRANSFER:
        _transfer(ctx, actor=actor, case=case, decision=decision, held=held, live=live)
    else:
        held.status = BeneficiaryStatus.TERMINATED
        held.terminated_on = cycles.office_today(ctx.settings)
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
    if live.duplicate_of is not None:
        # Another case replaced the old record meanwhile: the person is live elsewhere now.
        raise Conflict(
            "the record on the rolls was replaced by another registration; refuse this one",
            {"decision": ["duplicate_of_replaced"]},
        )
    today = cycles.office_today(ctx.settings)
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
