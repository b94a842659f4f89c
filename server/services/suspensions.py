"""Suspensions of payment: started by an approved decision with a notice, appealed, ended by reinstatement
(with arrears) or termination (services.terminations).

Arrears are the monthly payments the suspension withheld. Payments are monthly and a suspension withholds
whole months, from the month of its effective date on. A month counts as withheld when
- it lies between the effective month and the month before reinstatement, and no payment run paid the
  person for it (a run built before the suspension took effect did); or
- it is the reinstatement month or later, and a payment run for it was built while the person was suspended
  and so did not pay them (otherwise that month's own run pays them as usual).
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
    CaseState,
    Checkin,
    CheckinState,
    Notice,
    NoticeChannel,
    NoticeKind,
    PaymentCategory,
    PaymentLine,
    PaymentRun,
    ReviewCase,
    Suspension,
    SuspensionEnd,
    Termination,
    utcnow,
)
from server.services import notice_reasons
from server.services.audit import Actor, record
from server.services.cases import REVIEW_WORKING_DAYS, add_working_days, set_state
from server.services.cycles import office_today
from server.services.errors import Conflict, DomainError, NotFound
from server.services.months import period_of, periods_between
from server.services.regions import in_scope, within


def _staff_id(actor: Actor) -> uuid.UUID:
    return uuid.UUID(actor.id)


def ongoing_suspension(ctx: Ctx, *, beneficiary_id: uuid.UUID) -> Suspension | None:
    return ctx.session.scalar(
        select(Suspension).where(Suspension.beneficiary_id == beneficiary_id, Suspension.ended_on.is_(None))
    )


def create_notice(
    ctx: Ctx,
    *,
    actor: Actor,
    case: ReviewCase,
    decision: CaseDecision,
    kind: NoticeKind,
    what: str,
    how_to_appeal: str,
    appeal_by: date,
    channel: NoticeChannel,
    suspension: Suspension | None = None,
    termination: Termination | None = None,
) -> Notice:
    """The notice of a decision: its reason's standard wording and the text written for the person, never the
    decision's internal note."""
    reason = decision.notice_reason or notice_reasons.default_reason(case)
    notice = Notice(
        beneficiary_id=case.beneficiary_id,
        case_id=case.id,
        suspension_id=suspension.id if suspension else None,
        termination_id=termination.id if termination else None,
        kind=kind,
        what=what,
        why=notice_reasons.wording(ctx, case=case, reason=reason),
        reason_code=reason,
        note_for_person=decision.notice_text,
        evidence=notice_reasons.evidence(case),
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
        details={"kind": kind.value, "case_id": str(case.id), "channel": channel.value, "reason": reason.value},
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
        notify_upheld(
            ctx,
            actor=actor,
            case=case,
            decision=decision,
            kind=NoticeKind.SUSPENSION_UPHELD,
            what=(
                f"经复核，维持自{notice_reasons.zh_day(ongoing.effective_on)}起暂停发放救助金的决定。"
                "完成一次人脸认证后，工作人员仍可恢复发放并补发暂停期间的救助金。 / "
                f"On review, the suspension of your assistance from {ongoing.effective_on.isoformat()} stands. "
                "After a verified check-in, staff can still reinstate you and pay what was withheld."
            ),
            channel=channel,
            suspension=ongoing,
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
    appeal_by = office_today(ctx.settings) + timedelta(days=ctx.settings.suspension.appeal_days)
    create_notice(
        ctx,
        actor=actor,
        case=case,
        decision=decision,
        kind=NoticeKind.SUSPENSION,
        what=(
            f"自{notice_reasons.zh_day(effective_on)}起暂停发放救助金（每月{beneficiary.monthly_amount}元）。 / "
            f"Your assistance ({beneficiary.monthly_amount} yuan a month) is suspended from {effective_on.isoformat()}."
        ),
        how_to_appeal=(
            f"如有异议，请于{notice_reasons.zh_day(appeal_by)}前携带身份证到乡镇（街道）民政办或联系村协理员申诉；"
            "完成一次人脸认证后，工作人员可恢复发放并补发暂停期间的救助金。 / "
            f"To appeal, contact your township civil-affairs office or your village assistant, with your ID card, "
            f"by {appeal_by.isoformat()}. After a verified check-in, staff can reinstate you and pay what was withheld."
        ),
        appeal_by=appeal_by,
        channel=channel,
        suspension=suspension,
    )
    return suspension


# 行政复议法 art. 20: sixty days from learning of the decision; a law's term, not an office setting.
RECONSIDERATION_DAYS = 60


def notify_upheld(
    ctx: Ctx,
    *,
    actor: Actor,
    case: ReviewCase,
    decision: CaseDecision,
    kind: NoticeKind,
    what: str,
    channel: NoticeChannel,
    suspension: Suspension | None = None,
    termination: Termination | None = None,
) -> Notice:
    """Answer an appeal the office turned down. The office's own review is over, so the person's next step
    lies outside it: administrative reconsideration, or a lawsuit within six months (行政诉讼法 art. 46)."""
    appeal_by = office_today(ctx.settings) + timedelta(days=RECONSIDERATION_DAYS)
    return create_notice(
        ctx,
        actor=actor,
        case=case,
        decision=decision,
        kind=kind,
        what=what,
        how_to_appeal=(
            f"如不服本决定，可于{notice_reasons.zh_day(appeal_by)}前向县级人民政府申请行政复议，"
            "也可在六个月内依法向人民法院提起行政诉讼。 / "
            f"If you disagree, you may apply to the county government for administrative reconsideration by "
            f"{appeal_by.isoformat()}, or bring a case before a court within six months."
        ),
        appeal_by=appeal_by,
        channel=channel,
        suspension=suspension,
        termination=termination,
    )


def get_suspension(ctx: Ctx, *, actor: Actor, suspension_id: uuid.UUID) -> Suspension:
    suspension = ctx.session.scalar(
        select(Suspension).where(Suspension.id == suspension_id, in_scope(Suspension.region_code, actor.region_code))
    )
    if suspension is None:
        raise NotFound("suspension not found", {"suspension_id": ["not_found"]})
    return suspension


def list_suspensions(
    ctx: Ctx,
    *,
    actor: Actor,
    beneficiary_id: uuid.UUID | None,
    ongoing: bool | None,
    offset: int = 0,
    limit: int | None = None,
) -> list[Suspension]:
    """The actor's suspensions, newest approved first (all of them, or `limit` from `offset`)."""
    query = select(Suspension).where(in_scope(Suspension.region_code, actor.region_code))
    if beneficiary_id:
        query = query.where(Suspension.beneficiary_id == beneficiary_id)
    if ongoing is not None:
        query = query.where(Suspension.ended_on.is_(None) if ongoing else Suspension.ended_on.is_not(None))
    order = (Suspension.approved_at.desc(), Suspension.id)
    return list(ctx.session.scalars(query.order_by(*order).offset(offset).limit(limit)))


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
    today = office_today(ctx.settings)
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


def withheld_periods(ctx: Ctx, *, beneficiary: Beneficiary, since: date, until: date) -> list[str]:
    """The months withheld from `since` until payment resumes on `until`, by the rule in this module's docstring
    (a termination later undone withholds by the same rule)."""
    lines = ctx.session.execute(
        select(PaymentLine.period, PaymentLine.category).where(PaymentLine.beneficiary_id == beneficiary.id)
    ).all()
    paid = {
        period for period, category in lines if category in (PaymentCategory.PAY, PaymentCategory.REINSTATED_ARREARS)
    }
    first, resumed = period_of(since), period_of(until)
    # A run for the month payment resumes in, or later, built while payment was withheld, did not pay the person.
    built = {
        period
        for period, region_code in ctx.session.execute(
            select(PaymentRun.period, PaymentRun.region_code).where(PaymentRun.period >= resumed)
        )
        if within(region_code, beneficiary.village_code)
    }
    last = max([resumed, *built])
    return [
        period
        for period in periods_between(first, last)
        if period not in paid and (period < resumed or period in built)
    ]


def proof_of_life(ctx: Ctx, *, beneficiary_id: uuid.UUID, since: datetime) -> uuid.UUID | None:
    """A verified check-in (by the person's phone or assisted) made at or after `since`."""
    return ctx.session.scalar(
        select(Checkin.id)
        .where(
            Checkin.beneficiary_id == beneficiary_id,
            Checkin.state == CheckinState.VERIFIED,
            Checkin.created_at >= since,
        )
        .order_by(Checkin.created_at)
        .limit(1)
    )


def reinstate(
    ctx: Ctx, *, actor: Actor, beneficiary: Beneficiary, reason: str, reinstated_on: date | None
) -> Suspension:
    """A person reinstates a suspended beneficiary who has proved to be alive since; arrears go to the next run."""
    suspension = ongoing_suspension(ctx, beneficiary_id=beneficiary.id)
    if beneficiary.status != BeneficiaryStatus.SUSPENDED or suspension is None:
        raise Conflict("the beneficiary is not suspended", {"beneficiary_id": ["not_suspended"]})
    today = office_today(ctx.settings)
    reinstated_on = reinstated_on or today
    if reinstated_on > today:
        raise DomainError.field("reinstated_on", "in_future", "reinstatement cannot take effect in the future")
    if reinstated_on < suspension.effective_on:
        raise DomainError.field(
            "reinstated_on", "before_suspension", "reinstatement cannot take effect before the suspension did"
        )
    proof = proof_of_life(ctx, beneficiary_id=beneficiary.id, since=_start_of(suspension.effective_on))
    if proof is None:
        raise Conflict(
            "no verified check-in since the suspension took effect: the person must prove to be alive first",
            {"beneficiary_id": ["no_proof_of_life"]},
        )
    months = withheld_periods(ctx, beneficiary=beneficiary, since=suspension.effective_on, until=reinstated_on)
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
