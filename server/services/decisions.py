"""Decisions on review cases: which are allowed in which state, four eyes for suspension and termination,
and a history row for every decision, proposal, approval and rejection.

    open | extended ─ suspend*  ─▶ suspended ─ terminate* ─▶ terminated
                    ─ terminate* ─▶ terminated
                    ─ extend ─▶ extended (new deadline)     ─ exempt ─▶ exempted
                    ─ dismiss ─▶ dismissed                  ─ order_visit: a visit task; the state stays
    suspended ─ appeal ─▶ open (the suspension stays until a person reinstates, or a suspend* upholds it)
    suspended | open after an appeal ─ reinstate (services.suspensions) ─▶ reinstated
    terminated ─ appeal (services.terminations) ─▶ open ─ restore* ─▶ restored   ─ terminate* ─▶ terminated (upheld)
    (* proposed by one person, applied only when another approves)

A decision's `reason` is the internal note (staff only); suspend and terminate also carry the notice's reason
from a fixed list (services.notice_reasons) and, only if the staff member writes one, a text for the person.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select

from server.context import Ctx
from server.models import (
    Beneficiary,
    BeneficiaryStatus,
    CaseDecision,
    CaseKind,
    CaseState,
    DecisionKind,
    DecisionStatus,
    NoticeChannel,
    ReviewCase,
    StaffRole,
    StaffUser,
    utcnow,
)
from server.services import duplicate_registrations, notice_reasons, suspensions, terminations, visit_tasks
from server.services.audit import Actor, record
from server.services.cases import close_case, set_state
from server.services.cycles import office_today
from server.services.errors import Conflict, DomainError, Forbidden, NotFound
from server.services.exemptions import check_span, grant_exemption
from server.services.regions import within

FOUR_EYES = (DecisionKind.SUSPEND, DecisionKind.TERMINATE, DecisionKind.RESTORE, *duplicate_registrations.RESOLUTIONS)
WITH_NOTICE = (DecisionKind.SUSPEND, DecisionKind.TERMINATE)
UNDECIDED = (CaseState.OPEN, CaseState.EXTENDED)
CLOSED_BY_VERIFIED_CHECKIN = "closed_by_verified_checkin"


def _staff_uuid(actor: Actor) -> uuid.UUID:
    return uuid.UUID(actor.id)


def _touch(case: ReviewCase) -> None:
    # Every decision bumps the case's version, so two people deciding at once cannot both succeed.
    case.updated_at = utcnow()


def pending_proposal(ctx: Ctx, *, case_id: uuid.UUID) -> CaseDecision | None:
    return ctx.session.scalar(
        select(CaseDecision).where(CaseDecision.case_id == case_id, CaseDecision.status == DecisionStatus.PENDING)
    )


def allowed_decisions(ctx: Ctx, *, case: ReviewCase, beneficiary: Beneficiary) -> list[DecisionKind]:
    """The decisions the case's state allows now."""
    if case.kind == CaseKind.DUPLICATE_REGISTRATION:
        return duplicate_registrations.allowed(case)
    if case.state == CaseState.SUSPENDED:
        return [DecisionKind.TERMINATE]
    if case.state not in UNDECIDED:
        return []
    if beneficiary.status == BeneficiaryStatus.TERMINATED:
        appealed = terminations.under_appeal(ctx, beneficiary=beneficiary)
        if appealed is not None and appealed.case_id == case.id:
            # Reopened by an appeal: restore a person proven alive, uphold the termination, or look again.
            return [DecisionKind.RESTORE, DecisionKind.TERMINATE, DecisionKind.ORDER_VISIT]
        return [DecisionKind.DISMISS]
    ongoing = suspensions.ongoing_suspension(ctx, beneficiary_id=beneficiary.id)
    if ongoing is not None and ongoing.case_id == case.id:
        # Reopened by an appeal: uphold the suspension, terminate, or look again; a person reinstates.
        return [DecisionKind.SUSPEND, DecisionKind.TERMINATE, DecisionKind.ORDER_VISIT]
    allowed = [
        kind
        for kind in DecisionKind
        if kind != DecisionKind.RESTORE and kind not in duplicate_registrations.RESOLUTIONS
    ]
    if ongoing is not None:
        allowed.remove(DecisionKind.SUSPEND)
    return allowed


def _check_transition(ctx: Ctx, case: ReviewCase, beneficiary: Beneficiary, decision: DecisionKind) -> None:
    allowed = allowed_decisions(ctx, case=case, beneficiary=beneficiary)
    if decision not in allowed:
        reasons = ["invalid_transition"]
        message = f"a case in state {case.state.value} does not allow {decision.value}"
        if case.state in UNDECIDED and beneficiary.status == BeneficiaryStatus.TERMINATED:
            # The case's own state allows it; what blocks it is the person's, so say that.
            reasons.append("beneficiary_terminated")
            message = (
                f"the beneficiary's assistance was terminated from {beneficiary.terminated_on}, so {decision.value} "
                "no longer applies; dismiss the case"
            )
        raise Conflict(message, {"decision": reasons, "allowed": [kind.value for kind in allowed]})


def _reason(reason: str | None, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError.field(field, "required", "every decision needs a reason")
    return reason


def _required(params: Mapping[str, Any], name: str) -> Any:
    value = params.get(name)
    if value is None:
        raise DomainError.field(name, "required")
    return value


def _validated_params(ctx: Ctx, case: ReviewCase, decision: DecisionKind, params: Mapping[str, Any]) -> dict[str, Any]:
    """The decision's parameters, checked, as JSON to keep in the history."""
    today = office_today(ctx.settings)
    if decision == DecisionKind.RESTORE:
        # The arrears as they stand at the proposal, for the approver to see; approval computes them again.
        preview = terminations.preview_restore(ctx, case=case, restored_on=params.get("restored_on"))
        dispute_reason = (params.get("dispute_reason") or "").strip() or None
        if dispute_reason is None and terminations.needs_dispute_reason(ctx, case=case):
            raise DomainError.field(
                "dispute_reason", "required", "say why the death record is wrong, for its source to correct it"
            )
        return {
            "restored_on": preview.restored_on.isoformat(),
            "dispute_reason": dispute_reason,
            "proof_checkin_id": str(preview.proof_checkin_id),
            "arrears_periods": preview.periods,
            "arrears_amount": str(preview.amount),
        }
    if decision == DecisionKind.SUSPEND:
        channel = params.get("notice_channel") or NoticeChannel.LETTER
        return {"effective_on": _required(params, "effective_on").isoformat(), "notice_channel": channel.value}
    if decision == DecisionKind.TERMINATE:
        effective_on = params.get("effective_on")
        if effective_on is None and case.kind == CaseKind.DEATH_RECORD:
            effective_on = date.fromisoformat(case.details["date_of_death"])
        if effective_on is None:
            raise DomainError.field("effective_on", "required")
        if effective_on > today:
            raise DomainError.field("effective_on", "in_future", "a termination takes effect on a date already past")
        channel = params.get("notice_channel") or NoticeChannel.LETTER
        return {"effective_on": effective_on.isoformat(), "notice_channel": channel.value}
    if decision == DecisionKind.EXTEND:
        new_deadline = _required(params, "new_deadline")
        if new_deadline <= today:
            raise DomainError.field("new_deadline", "not_in_future")
        return {"new_deadline": new_deadline.isoformat()}
    if decision == DecisionKind.EXEMPT:
        exemption = _required(params, "exemption")
        check_span(exemption["kind"], exemption["starts_on"], exemption["ends_on"], field="exemption.ends_on")
        return {
            "exemption": {
                "kind": exemption["kind"].value,
                "starts_on": exemption["starts_on"].isoformat(),
                "ends_on": exemption["ends_on"].isoformat(),
            }
        }
    if decision == DecisionKind.ORDER_VISIT:
        due_on = _required(params, "due_on")
        if due_on < today:
            raise DomainError.field("due_on", "in_past")
        return {"field_worker_id": str(_required(params, "field_worker_id")), "due_on": due_on.isoformat()}
    return {}


def decide(
    ctx: Ctx,
    *,
    actor: Actor,
    case: ReviewCase,
    decision: DecisionKind,
    reason: str | None,
    params: Mapping[str, Any],
) -> CaseDecision:
    """Take a decision (suspend and terminate: propose it for a second person). The caller commits."""
    reason = _reason(reason)
    beneficiary = ctx.session.get(Beneficiary, case.beneficiary_id)
    pending = pending_proposal(ctx, case_id=case.id)
    if pending is not None:
        raise Conflict(
            "a proposal on this case awaits approval; approve or reject it first",
            {"decision": ["proposal_pending"], "pending_decision_id": [str(pending.id)]},
        )
    _check_transition(ctx, case, beneficiary, decision)
    stored = _validated_params(ctx, case, decision, params)
    notice_reason, notice_text = None, None
    if decision in WITH_NOTICE:
        notice_reason, notice_text = notice_reasons.check(case, params.get("notice_reason"), params.get("notice_text"))
    elif params.get("notice_reason") or params.get("notice_text"):
        raise DomainError.field("notice_reason", "no_notice", f"a {decision.value} decision sends no notice")
    row = CaseDecision(
        case_id=case.id,
        decision=decision,
        status=DecisionStatus.PENDING if decision in FOUR_EYES else DecisionStatus.APPLIED,
        proposed_by=_staff_uuid(actor),
        reason=reason,
        notice_reason=notice_reason,
        notice_text=notice_text,
        params=stored,
    )
    ctx.session.add(row)
    _touch(case)
    ctx.session.flush()
    if row.status == DecisionStatus.APPLIED:
        _apply_at_once(ctx, actor=actor, case=case, beneficiary=beneficiary, row=row, params=params)
    record(
        ctx.session,
        actor=actor,
        action="case.decision_proposed" if row.status == DecisionStatus.PENDING else "case.decided",
        object_type="review_case",
        object_id=case.id,
        region_code=case.region_code,
        reason=reason,
        details={
            "decision": decision.value,
            "decision_id": str(row.id),
            "params": stored,
            "notice_reason": notice_reason.value if notice_reason else None,
        },
    )
    return row


def _apply_at_once(
    ctx: Ctx,
    *,
    actor: Actor,
    case: ReviewCase,
    beneficiary: Beneficiary,
    row: CaseDecision,
    params: Mapping[str, Any],
) -> None:
    if row.decision == DecisionKind.EXTEND:
        set_state(case, CaseState.EXTENDED, actor=actor, reason=row.reason)
        case.due_on = params["new_deadline"]
    elif row.decision == DecisionKind.EXEMPT:
        set_state(case, CaseState.EXEMPTED, actor=actor, reason=row.reason)
        grant_exemption(
            ctx,
            actor=actor,
            beneficiary=beneficiary,
            kind=params["exemption"]["kind"],
            starts_on=params["exemption"]["starts_on"],
            ends_on=params["exemption"]["ends_on"],
            reason=row.reason,
            case_id=case.id,
        )
    elif row.decision == DecisionKind.ORDER_VISIT:
        visit_tasks.create_task(
            ctx,
            actor=actor,
            case=case,
            beneficiary=beneficiary,
            field_worker_id=params["field_worker_id"],
            due_on=params["due_on"],
        )
    elif row.decision == DecisionKind.DISMISS:
        set_state(case, CaseState.DISMISSED, actor=actor, reason=row.reason)


def _decision_of(ctx: Ctx, case: ReviewCase, decision_id: uuid.UUID) -> CaseDecision:
    row = ctx.session.get(CaseDecision, decision_id)
    if row is None or row.case_id != case.id:
        raise NotFound("decision not found", {"decision_id": ["not_found"]})
    return row


def _pending_of(ctx: Ctx, case: ReviewCase, decision_id: uuid.UUID) -> CaseDecision:
    row = _decision_of(ctx, case, decision_id)
    if row.status != DecisionStatus.PENDING:
        raise Conflict(f"this decision is {row.status.value}, not pending", {"decision_id": ["not_pending"]})
    return row


def approve(ctx: Ctx, *, actor: Actor, case: ReviewCase, decision_id: uuid.UUID, reason: str | None) -> CaseDecision:
    """A second person approves a proposal, which then takes effect. The caller commits."""
    row = _pending_of(ctx, case, decision_id)
    if row.proposed_by == _staff_uuid(actor):
        raise Forbidden("someone other than the proposer must approve this", {"_": ["four_eyes_required"]})
    beneficiary = ctx.session.get(Beneficiary, case.beneficiary_id)
    _check_transition(ctx, case, beneficiary, row.decision)
    row.status = DecisionStatus.APPROVED
    row.approved_by = _staff_uuid(actor)
    row.approved_at = utcnow()
    row.review_reason = (reason or "").strip() or None
    _touch(case)
    if row.decision == DecisionKind.RESTORE:
        terminations.restore(ctx, actor=actor, case=case, decision=row, beneficiary=beneficiary)
    elif row.decision in duplicate_registrations.RESOLUTIONS:
        duplicate_registrations.resolve(ctx, actor=actor, case=case, decision=row)
    else:
        apply = suspensions.start_suspension if row.decision == DecisionKind.SUSPEND else terminations.terminate
        apply(
            ctx,
            actor=actor,
            case=case,
            decision=row,
            beneficiary=beneficiary,
            effective_on=date.fromisoformat(row.params["effective_on"]),
            channel=NoticeChannel(row.params["notice_channel"]),
        )
    record(
        ctx.session,
        actor=actor,
        action="case.decision_approved",
        object_type="review_case",
        object_id=case.id,
        region_code=case.region_code,
        reason=row.review_reason,
        details={"decision": row.decision.value, "decision_id": str(row.id), "proposed_by": str(row.proposed_by)},
    )
    return row


def reject(ctx: Ctx, *, actor: Actor, case: ReviewCase, decision_id: uuid.UUID, reason: str | None) -> CaseDecision:
    """Turn a proposal down (the proposer may withdraw their own); the case stays as it was. The caller commits."""
    reason = _reason(reason)
    row = _pending_of(ctx, case, decision_id)
    row.status = DecisionStatus.REJECTED
    row.rejected_by = _staff_uuid(actor)
    row.rejected_at = utcnow()
    row.review_reason = reason
    _touch(case)
    record(
        ctx.session,
        actor=actor,
        action="case.decision_rejected",
        object_type="review_case",
        object_id=case.id,
        region_code=case.region_code,
        reason=reason,
        details={"decision": row.decision.value, "decision_id": str(row.id)},
    )
    return row


def list_decisions(ctx: Ctx, *, case: ReviewCase) -> list[CaseDecision]:
    return list(
        ctx.session.scalars(
            select(CaseDecision).where(CaseDecision.case_id == case.id).order_by(CaseDecision.proposed_at)
        )
    )


def assign(ctx: Ctx, *, actor: Actor, case: ReviewCase, assigned_to: uuid.UUID | None) -> None:
    """Give the case to a supervisor or admin who can see it, or take it back (None). The caller commits."""
    if assigned_to is not None:
        user = ctx.session.get(StaffUser, assigned_to)
        if (
            user is None
            or not user.is_active
            or user.role not in (StaffRole.SUPERVISOR, StaffRole.ADMIN)
            or not within(user.region_code, case.region_code)
        ):
            raise DomainError.field(
                "assigned_to", "not_a_reviewer_in_scope", "assign to a supervisor or admin whose region holds the case"
            )
    case.assigned_to = assigned_to
    record(
        ctx.session,
        actor=actor,
        action="case.assigned",
        object_type="review_case",
        object_id=case.id,
        region_code=case.region_code,
        details={"assigned_to": str(assigned_to) if assigned_to else None},
    )


def close_missed_checkin_cases(ctx: Ctx, *, beneficiary_id: uuid.UUID, checkin_id: uuid.UUID) -> int:
    """A verified check-in closes the person's undecided missed_checkin cases. Returns how many it closed.

    A case reopened by an appeal keeps its suspension or termination: only people reinstate or restore, so it
    stays open.
    A proposal awaiting approval on a closed case is void and marked rejected.
    """
    system = Actor.system()
    ongoing = suspensions.ongoing_suspension(ctx, beneficiary_id=beneficiary_id)
    appealed = terminations.under_appeal(ctx, beneficiary=ctx.session.get(Beneficiary, beneficiary_id))
    kept = {held.case_id for held in (ongoing, appealed) if held is not None}
    cases = ctx.session.scalars(
        select(ReviewCase).where(
            ReviewCase.beneficiary_id == beneficiary_id,
            ReviewCase.kind == CaseKind.MISSED_CHECKIN,
            ReviewCase.state.in_(UNDECIDED),
        )
    ).all()
    closed = 0
    for case in cases:
        if case.id in kept:
            continue
        close_case(
            ctx.session,
            case=case,
            actor=system,
            state=CaseState.DISMISSED,
            reason=CLOSED_BY_VERIFIED_CHECKIN,
            details={"checkin_id": str(checkin_id)},
        )
        closed += 1
    return closed
