"""Suspensions of payment: started by an approved decision with a notice, appealed, ended by reinstatement
(with arrears) or termination.

Arrears are the monthly payments the suspension withheld. Payments are monthly and a suspension withholds
whole months, from the month of its effective date on. A month counts as withheld when
- it lies between the effective month and the month before reinstatement, and no payment run paid the
  person for it (a run built before the suspension took effect did); or
- it is the reinstatement month or later, and a payment run built while the person was suspended listed
  them as `suspended` for it (otherwise that month's own run pays them as usual).
Arrears = months withheld × the monthly amount at reinstatement, as a Decimal, paid by the next run.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from server.context import Ctx
from server.models import (
    Beneficiary,
    BeneficiaryStatus,
    CaseDecision,
    CaseKind,
    CaseState,
    Checkin,
    CheckinState,
    Cycle,
    CycleFrequency,
    Notice,
    NoticeChannel,
    NoticeKind,
    PaymentCategory,
    PaymentLine,
    ReviewCase,
    Suspension,
    SuspensionEnd,
    utcnow,
)
from server.services.audit import Actor, record
from server.services.cases import REVIEW_WORKING_DAYS, add_working_days, set_state
from server.services.errors import Conflict, DomainError, NotFound
from server.services.months import period_of, periods_between
from server.services.recoveries import PAID_AFTER_DEATH, PAID_AFTER_TERMINATION, flag_payments_after
from server.services.regions import in_scope

# What the notice gives as the ground, per kind of case (Chinese first: the people it goes to read Chinese).
GROUNDS = {
    CaseKind.FAILED_CHECKINS: "多次认证未通过 / Check-ins failed repeatedly",
    CaseKind.DUPLICATE_FACE: "人脸与他人档案重复 / The face matches another person's record",
    CaseKind.LOCATION_ANOMALY: "认证地点异常 / The check-in location was unusual",
    CaseKind.VISIT_FINDING: "入户调查发现问题 / A home visit found a problem",
    CaseKind.DEATH_RECORD: "收到死亡登记信息 / A death record was received",
}
# A missed check-in is named after its cycle's frequency: a monthly cycle's notice must not say "quarterly".
MISSED_CHECKIN_GROUNDS = {
    CycleFrequency.MONTHLY: "未按时完成月度认证 / The monthly check-in was not done",
    CycleFrequency.QUARTERLY: "未按时完成季度认证 / The quarterly check-in was not done",
    CycleFrequency.YEARLY: "未按时完成年度认证 / The yearly check-in was not done",
}


def _ground(ctx: Ctx, case: ReviewCase) -> str:
    if case.kind != CaseKind.MISSED_CHECKIN:
        return GROUNDS[case.kind]
    cycle_id = case.details.get("cycle_id")
    cycle = ctx.session.get(Cycle, uuid.UUID(cycle_id)) if cycle_id else None
    # A case opened before cycles were configured counts the calendar quarter.
    return MISSED_CHECKIN_GROUNDS[cycle.frequency if cycle else CycleFrequency.QUARTERLY]


def _staff_id(actor: Actor) -> uuid.UUID:
    return uuid.UUID(actor.id)


def ongoing_suspension(ctx: Ctx, *, beneficiary_id: uuid.UUID) -> Suspension | None:
    return ctx.session.scalar(
        select(Suspension).where(Suspension.beneficiary_id == beneficiary_id, Suspension.ended_on.is_(None))
    )


def _notice(
    ctx: Ctx,
    *,
    actor: Actor,
    case: ReviewCase,
    kind: NoticeKind,
    what: str,
    reason: str,
    how_to_appeal: str,
    appeal_by: date,
    channel: NoticeChannel,
    suspension: Suspension | None = None,
) -> Notice:
    notice = Notice(
        beneficiary_id=case.beneficiary_id,
        case_id=case.id,
        suspension_id=suspension.id if suspension else None,
        kind=kind,
        what=what,
        why=f"{_ground(ctx, case)}: {reason}",
        how_to_appeal=how_to_appeal,
        appeal_by=appeal_by,
        channel=channel,
        created_by=_staff_id(actor),
    )
    ctx.session.add(notice)
    ctx.session.flush()
    record(
        ctx.session,
        actor=actor,
        action="notice.created",
        object_type="notice",
        object_id=notice.id,
        region_code=case.region_code,
        details={"kind": kind.value, "case_id": str(case.id), "channel": channel.value},
    )
    return notice


def start_suspension(
    ctx: Ctx,
    *,
    actor: Actor,
    case: ReviewCase,
    decision: CaseDecision,
    beneficiary: Beneficiary,
    effective_on: date,
    channel: NoticeChannel,
) -> Suspension:
    """Withhold payment from `effective_on` and tell the person; an appeal upheld keeps the suspension it was about."""
    ongoing = ongoing_suspension(ctx, beneficiary_id=beneficiary.id)
    if ongoing is not None and ongoing.case_id == case.id:
        set_state(case, CaseState.SUSPENDED, actor=actor, reason=decision.reason)
        record(
            ctx.session,
            actor=actor,
            action="suspension.upheld",
            object_type="suspension",
            object_id=ongoing.id,
            region_code=case.region_code,
            reason=decision.reason,
            details={"decision_id": str(decision.id)},
        )
        return ongoing
    if ongoing is not None:
        raise Conflict("the beneficiary is already suspended by another case", {"decision": ["already_suspended"]})
    suspension = Suspension(
        beneficiary_id=beneficiary.id,
        case_id=case.id,
        decision_id=decision.id,
        region_code=beneficiary.village_code,
        effective_on=effective_on,
        proposed_by=decision.proposed_by,
        approved_by=_staff_id(actor),
        approved_at=utcnow(),
    )
    ctx.session.add(suspension)
    beneficiary.status = BeneficiaryStatus.SUSPENDED
    set_state(case, CaseState.SUSPENDED, actor=actor, reason=decision.reason)
    ctx.session.flush()
    record(
        ctx.session,
        actor=actor,
        action="suspension.started",
        object_type="suspension",
        object_id=suspension.id,
        region_code=suspension.region_code,
        reason=decision.reason,
        details={
            "beneficiary_id": str(beneficiary.id),
            "case_id": str(case.id),
            "effective_on": effective_on.isoformat(),
        },
    )
    appeal_by = utcnow().date() + timedelta(days=ctx.settings.suspension.appeal_days)
    _notice(
        ctx,
        actor=actor,
        case=case,
        kind=NoticeKind.SUSPENSION,
        what=(
            f"自{effective_on.isoformat()}起暂停发放救助金（每月{beneficiary.monthly_amount}元）。 / "
            f"Your assistance ({beneficiary.monthly_amount} yuan a month) is suspended from {effective_on.isoformat()}."
        ),
        reason=decision.reason,
        how_to_appeal=(
            f"如有异议，请于{appeal_by.isoformat()}前携带身份证到乡镇（街道）民政办或联系村协理员申诉；"
            "完成一次人脸认证后，工作人员可恢复发放并补发暂停期间的救助金。 / "
            f"To appeal, contact your township civil-affairs office or your village assistant, with your ID card, "
            f"by {appeal_by.isoformat()}. After a verified check-in, staff can reinstate you and pay what was withheld."
        ),
        appeal_by=appeal_by,
        channel=channel,
        suspension=suspension,
    )
    return suspension


def terminate(
    ctx: Ctx,
    *,
    actor: Actor,
    case: ReviewCase,
    decision: CaseDecision,
    beneficiary: Beneficiary,
    effective_on: date,
    channel: NoticeChannel,
) -> None:
    """End assistance from `effective_on` (for a death, the date of death), ending any suspension, with a notice."""
    today = utcnow().date()
    ongoing = ongoing_suspension(ctx, beneficiary_id=beneficiary.id)
    if ongoing is not None:
        ongoing.ended_on = today
        ongoing.end_reason = SuspensionEnd.TERMINATED
        ongoing.ended_by = _staff_id(actor)
    beneficiary.status = BeneficiaryStatus.TERMINATED
    beneficiary.terminated_on = effective_on
    set_state(case, CaseState.TERMINATED, actor=actor, reason=decision.reason)
    ctx.session.flush()
    # Runs built before the termination paid months it now ends: flag them for recovery.
    flag = PAID_AFTER_DEATH if case.kind == CaseKind.DEATH_RECORD else PAID_AFTER_TERMINATION
    flag_payments_after(ctx.session, actor=actor, beneficiary=beneficiary, effective_on=effective_on, flag=flag)
    record(
        ctx.session,
        actor=actor,
        action="beneficiary.terminated",
        object_type="beneficiary",
        object_id=beneficiary.id,
        region_code=beneficiary.village_code,
        reason=decision.reason,
        details={"case_id": str(case.id), "effective_on": effective_on.isoformat()},
    )
    appeal_by = today + timedelta(days=ctx.settings.suspension.appeal_days)
    _notice(
        ctx,
        actor=actor,
        case=case,
        kind=NoticeKind.TERMINATION,
        what=(f"自{effective_on.isoformat()}起终止救助。 / Assistance ends from {effective_on.isoformat()}."),
        reason=decision.reason,
        how_to_appeal=(
            f"如信息有误，请于{appeal_by.isoformat()}前到乡镇（街道）民政办说明。 / "
            f"If this is wrong, tell your township civil-affairs office by {appeal_by.isoformat()}."
        ),
        appeal_by=appeal_by,
        channel=channel,
        suspension=ongoing,
    )


def get_suspension(ctx: Ctx, *, actor: Actor, suspension_id: uuid.UUID) -> Suspension:
    suspension = ctx.session.scalar(
        select(Suspension).where(Suspension.id == suspension_id, in_scope(Suspension.region_code, actor.region_code))
    )
    if suspension is None:
        raise NotFound("suspension not found", {"suspension_id": ["not_found"]})
    return suspension


def list_suspensions(
    ctx: Ctx, *, actor: Actor, beneficiary_id: uuid.UUID | None, ongoing: bool | None
) -> list[Suspension]:
    query = select(Suspension).where(in_scope(Suspension.region_code, actor.region_code))
    if beneficiary_id:
        query = query.where(Suspension.beneficiary_id == beneficiary_id)
    if ongoing is not None:
        query = query.where(Suspension.ended_on.is_(None) if ongoing else Suspension.ended_on.is_not(None))
    return list(ctx.session.scalars(query.order_by(Suspension.approved_at.desc(), Suspension.id)))


def notices_of(ctx: Ctx, *, suspension: Suspension) -> list[Notice]:
    return list(
        ctx.session.scalars(select(Notice).where(Notice.suspension_id == suspension.id).order_by(Notice.created_at))
    )


def appeal(ctx: Ctx, *, actor: Actor, suspension: Suspension, reason: str) -> ReviewCase:
    """Record an appeal received in time: the case opens again for a person to look, due in three working days."""
    if suspension.ended_on is not None:
        raise Conflict("this suspension has ended", {"suspension_id": ["suspension_ended"]})
    if suspension.appealed_at is not None:
        raise Conflict(
            "an appeal against this suspension was already recorded", {"suspension_id": ["already_appealed"]}
        )
    notice = ctx.session.scalar(
        select(Notice).where(Notice.suspension_id == suspension.id, Notice.kind == NoticeKind.SUSPENSION)
    )
    today = utcnow().date()
    if notice is not None and today > notice.appeal_by:
        # A late appeal is not lost: reinstatement after a verified check-in is open at any time.
        raise Conflict(
            f"the appeal period ended on {notice.appeal_by.isoformat()}; reinstate after a verified check-in instead",
            {"suspension_id": ["appeal_period_over"]},
        )
    case = ctx.session.get(ReviewCase, suspension.case_id)
    suspension.appealed_at = utcnow()
    suspension.appeal_recorded_by = _staff_id(actor)
    case.state = CaseState.OPEN
    case.due_on = add_working_days(today, REVIEW_WORKING_DAYS)
    record(
        ctx.session,
        actor=actor,
        action="suspension.appealed",
        object_type="suspension",
        object_id=suspension.id,
        region_code=suspension.region_code,
        reason=reason,
        details={"case_id": str(case.id), "case_due_on": case.due_on.isoformat()},
    )
    return case


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def withheld_periods(ctx: Ctx, *, suspension: Suspension, reinstated_on: date) -> list[str]:
    """The months this suspension withheld, by the rule in this module's docstring."""
    lines = ctx.session.execute(
        select(PaymentLine.period, PaymentLine.category).where(PaymentLine.beneficiary_id == suspension.beneficiary_id)
    ).all()
    paid = {
        period for period, category in lines if category in (PaymentCategory.PAY, PaymentCategory.REINSTATED_ARREARS)
    }
    listed_suspended = {period for period, category in lines if category == PaymentCategory.SUSPENDED}
    first, reinstated = period_of(suspension.effective_on), period_of(reinstated_on)
    last = max([reinstated, *listed_suspended])
    return [
        period
        for period in periods_between(first, last)
        if (period < reinstated and period not in paid) or (period >= reinstated and period in listed_suspended)
    ]


def reinstate(
    ctx: Ctx, *, actor: Actor, beneficiary: Beneficiary, reason: str, reinstated_on: date | None
) -> Suspension:
    """A person reinstates a suspended beneficiary who has proved to be alive since; arrears go to the next run."""
    suspension = ongoing_suspension(ctx, beneficiary_id=beneficiary.id)
    if beneficiary.status != BeneficiaryStatus.SUSPENDED or suspension is None:
        raise Conflict("the beneficiary is not suspended", {"beneficiary_id": ["not_suspended"]})
    today = utcnow().date()
    reinstated_on = reinstated_on or today
    if reinstated_on > today:
        raise DomainError.field("reinstated_on", "in_future", "reinstatement cannot take effect in the future")
    if reinstated_on < suspension.effective_on:
        raise DomainError.field(
            "reinstated_on", "before_suspension", "reinstatement cannot take effect before the suspension did"
        )
    proof = ctx.session.scalar(
        select(Checkin.id)
        .where(
            Checkin.beneficiary_id == beneficiary.id,
            Checkin.state == CheckinState.VERIFIED,
            Checkin.created_at >= _start_of(suspension.effective_on),
        )
        .limit(1)
    )
    if proof is None:
        raise Conflict(
            "no verified check-in since the suspension took effect: the person must prove to be alive first",
            {"beneficiary_id": ["no_proof_of_life"]},
        )
    months = withheld_periods(ctx, suspension=suspension, reinstated_on=reinstated_on)
    suspension.ended_on = reinstated_on
    suspension.end_reason = SuspensionEnd.REINSTATED
    suspension.ended_by = _staff_id(actor)
    suspension.arrears_months = len(months)
    suspension.arrears_amount = (beneficiary.monthly_amount * len(months)).quantize(Decimal("0.01"))
    beneficiary.status = BeneficiaryStatus.ACTIVE
    case = ctx.session.get(ReviewCase, suspension.case_id)
    set_state(case, CaseState.REINSTATED, actor=actor, reason=reason)
    record(
        ctx.session,
        actor=actor,
        action="beneficiary.reinstated",
        object_type="beneficiary",
        object_id=beneficiary.id,
        region_code=beneficiary.village_code,
        reason=reason,
        details={
            "suspension_id": str(suspension.id),
            "case_id": str(case.id),
            "proof_checkin_id": str(proof),
            "reinstated_on": reinstated_on.isoformat(),
            "arrears_periods": months,
            "arrears_amount": str(suspension.arrears_amount),
        },
    )
    return suspension
