"""Terminations: ended by an approved decision with a notice, appealed, and undone (restored) when the person
proves to be alive — the worst failure is to stop the money of a living person and leave them no way back.

    terminated ─ appeal ─▶ open (due in three working days; the person may check in again to prove being alive)
    open after an appeal ─ restore* ─▶ restored: status active, arrears for every month withheld, every death
                                       record of the person disputed for its source registry to correct
                         ─ terminate* ─▶ terminated (the termination upheld)
    (* proposed by one person, applied only when another approves: services.decisions)

One person, one state: terminating or restoring a person closes every other undecided or suspended case of
theirs with a recorded reason, so no queue shows a case for a state that no longer exists.
Arrears follow the suspension rule (services.suspensions.withheld_periods) from the termination's effective date.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from server.context import Ctx
from server.models import (
    Beneficiary,
    BeneficiaryStatus,
    CaseDecision,
    CaseKind,
    CaseState,
    DisputedDeathRecord,
    Notice,
    NoticeChannel,
    NoticeKind,
    ReviewCase,
    SuspensionEnd,
    Termination,
    utcnow,
)
from server.services import notice_reasons, suspensions
from server.services.audit import Actor, record
from server.services.cases import REVIEW_WORKING_DAYS, UNDECIDED_STATES, add_working_days, close_case, set_state
from server.services.cycles import office_today
from server.services.errors import Conflict, DomainError, NotFound
from server.services.recoveries import (
    PAID_AFTER_DEATH,
    PAID_AFTER_TERMINATION,
    clear_flags_after,
    flag_payments_after,
)
from server.services.regions import in_scope
from server.services.spreadsheet_cells import neutral_row

CLOSED_BY_TERMINATION = "closed_by_termination"
CLOSED_BY_RESTORATION = "closed_by_restoration"
DISPUTED_CSV_COLUMNS = (
    "source",
    "reference",
    "date_of_death",
    "village_code",
    "name",
    "id_number_masked",
    "reason",
    "disputed_on",
)


def _staff_id(actor: Actor) -> uuid.UUID:
    return uuid.UUID(actor.id)


def current_termination(ctx: Ctx, *, beneficiary_id: uuid.UUID) -> Termination | None:
    """The termination in force (not restored), if any."""
    return ctx.session.scalar(
        select(Termination)
        .where(Termination.beneficiary_id == beneficiary_id, Termination.restored_on.is_(None))
        .order_by(Termination.approved_at.desc())
        .limit(1)
    )


def under_appeal(ctx: Ctx, *, beneficiary: Beneficiary) -> Termination | None:
    """The person's termination while an appeal against it awaits a decision: they may check in to prove
    being alive."""
    if beneficiary.status != BeneficiaryStatus.TERMINATED:
        return None
    termination = current_termination(ctx, beneficiary_id=beneficiary.id)
    if termination is None or termination.appealed_at is None:
        return None
    case = ctx.session.get(ReviewCase, termination.case_id)
    return termination if case.state in UNDECIDED_STATES else None


def _close_other_cases(ctx: Ctx, *, actor: Actor, case: ReviewCase, reason: str, suspension_case_id=None) -> int:
    """Every other undecided or suspended case of the person, closed: the case holding a suspension that this
    termination ended moves to terminated, the others are dismissed."""
    others = ctx.session.scalars(
        select(ReviewCase)
        .where(
            ReviewCase.beneficiary_id == case.beneficiary_id,
            ReviewCase.id != case.id,
            ReviewCase.state.in_((*UNDECIDED_STATES, CaseState.SUSPENDED)),
        )
        .order_by(ReviewCase.created_at)
    ).all()
    for other in others:
        moved = other.id == suspension_case_id or other.state == CaseState.SUSPENDED
        close_case(
            ctx.session,
            case=other,
            actor=actor,
            state=CaseState.TERMINATED if moved and reason == CLOSED_BY_TERMINATION else CaseState.DISMISSED,
            reason=reason,
            details={"by_case_id": str(case.id)},
        )
    return len(others)


def terminate(
    ctx: Ctx,
    *,
    actor: Actor,
    case: ReviewCase,
    decision: CaseDecision,
    beneficiary: Beneficiary,
    effective_on: date,
    channel: NoticeChannel,
) -> Termination:
    """End assistance from `effective_on` (for a death, the date of death), ending any suspension and closing
    the person's other cases, with a notice; after an appeal, uphold the termination the case made."""
    current = current_termination(ctx, beneficiary_id=beneficiary.id)
    if current is not None and beneficiary.status == BeneficiaryStatus.TERMINATED:
        if current.case_id != case.id:
            raise Conflict("the beneficiary is already terminated", {"decision": ["already_terminated"]})
        set_state(case, CaseState.TERMINATED, actor=actor, reason=decision.reason)
        record(
            ctx.session,
            actor=actor,
            action="termination.upheld",
            object_type="termination",
            object_id=current.id,
            region_code=current.region_code,
            reason=decision.reason,
            details={"decision_id": str(decision.id)},
        )
        suspensions.notify_upheld(
            ctx,
            actor=actor,
            case=case,
            decision=decision,
            kind=NoticeKind.TERMINATION_UPHELD,
            what=(
                f"经复核，维持自{notice_reasons.zh_day(current.effective_on)}起终止救助的决定。 / "
                f"On review, the end of your assistance from {current.effective_on.isoformat()} stands."
            ),
            channel=channel,
            termination=current,
        )
        return current
    today = office_today(ctx.settings)
    ongoing = suspensions.ongoing_suspension(ctx, beneficiary_id=beneficiary.id)
    if ongoing is not None:
        ongoing.ended_on = today
        ongoing.end_reason = SuspensionEnd.TERMINATED
        ongoing.ended_by = _staff_id(actor)
    beneficiary.status = BeneficiaryStatus.TERMINATED
    beneficiary.terminated_on = effective_on
    set_state(case, CaseState.TERMINATED, actor=actor, reason=decision.reason)
    termination = Termination(
        beneficiary_id=beneficiary.id,
        case_id=case.id,
        decision_id=decision.id,
        region_code=beneficiary.village_code,
        effective_on=effective_on,
        proposed_by=decision.proposed_by,
        approved_by=_staff_id(actor),
        approved_at=utcnow(),
    )
    ctx.session.add(termination)
    ctx.session.flush()
    # Runs built before the termination paid months it now ends: flag them for recovery.
    flag = PAID_AFTER_DEATH if case.kind == CaseKind.DEATH_RECORD else PAID_AFTER_TERMINATION
    flag_payments_after(ctx.session, actor=actor, beneficiary=beneficiary, effective_on=effective_on, flag=flag)
    closed = _close_other_cases(
        ctx,
        actor=actor,
        case=case,
        reason=CLOSED_BY_TERMINATION,
        suspension_case_id=ongoing.case_id if ongoing else None,
    )
    record(
        ctx.session,
        actor=actor,
        action="beneficiary.terminated",
        object_type="beneficiary",
        object_id=beneficiary.id,
        region_code=beneficiary.village_code,
        reason=decision.reason,
        details={
            "case_id": str(case.id),
            "termination_id": str(termination.id),
            "effective_on": effective_on.isoformat(),
            "other_cases_closed": closed,
        },
    )
    appeal_by = today + timedelta(days=ctx.settings.suspension.appeal_days)
    suspensions.create_notice(
        ctx,
        actor=actor,
        case=case,
        decision=decision,
        kind=NoticeKind.TERMINATION,
        what=f"自{notice_reasons.zh_day(effective_on)}起终止救助。 / Assistance ends from {effective_on.isoformat()}.",
        how_to_appeal=(
            f"如您健在或信息有误，请于{notice_reasons.zh_day(appeal_by)}前携带身份证到乡镇（街道）民政办或联系村协理员申请复核；"
            "在工作人员见证下完成一次人脸认证后，可恢复救助并补发终止期间的救助金。 / "
            f"If you are alive or this is wrong, appeal to your township civil-affairs office or your village "
            f"assistant, with your ID card, by {appeal_by.isoformat()}. After a verified check-in, staff can "
            "restore your assistance and pay what was withheld."
        ),
        appeal_by=appeal_by,
        channel=channel,
        suspension=ongoing,
        termination=termination,
    )
    return termination


def get_termination(ctx: Ctx, *, actor: Actor, termination_id: uuid.UUID) -> Termination:
    termination = ctx.session.scalar(
        select(Termination).where(
            Termination.id == termination_id, in_scope(Termination.region_code, actor.region_code)
        )
    )
    if termination is None:
        raise NotFound("termination not found", {"termination_id": ["not_found"]})
    return termination


def termination_of_case(ctx: Ctx, *, case_id: uuid.UUID) -> Termination | None:
    return ctx.session.scalar(select(Termination).where(Termination.case_id == case_id))


def list_terminations(
    ctx: Ctx, *, actor: Actor, beneficiary_id: uuid.UUID | None, offset: int = 0, limit: int | None = None
) -> list[Termination]:
    """The actor's terminations, newest approved first (all of them, or `limit` from `offset`)."""
    query = select(Termination).where(in_scope(Termination.region_code, actor.region_code))
    if beneficiary_id:
        query = query.where(Termination.beneficiary_id == beneficiary_id)
    order = (Termination.approved_at.desc(), Termination.id)
    return list(ctx.session.scalars(query.order_by(*order).offset(offset).limit(limit)))


def notices_of(ctx: Ctx, *, termination: Termination) -> list[Notice]:
    return list(
        ctx.session.scalars(select(Notice).where(Notice.termination_id == termination.id).order_by(Notice.created_at))
    )


def appeal(ctx: Ctx, *, actor: Actor, termination: Termination, reason: str) -> ReviewCase:
    """Record an appeal: the case opens again for a person to look, due in three working days, and the person
    may check in again. A late appeal is recorded too (as late): a living person must keep a way back."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError.field("reason", "required", "say what the person says")
    if termination.restored_on is not None:
        raise Conflict("this termination was undone", {"termination_id": ["termination_restored"]})
    if termination.appealed_at is not None:
        raise Conflict(
            "an appeal against this termination was already recorded", {"termination_id": ["already_appealed"]}
        )
    notice = ctx.session.scalar(
        select(Notice).where(Notice.termination_id == termination.id, Notice.kind == NoticeKind.TERMINATION)
    )
    today = office_today(ctx.settings)
    case = ctx.session.get(ReviewCase, termination.case_id)
    termination.appealed_at = utcnow()
    termination.appeal_recorded_by = _staff_id(actor)
    case.state = CaseState.OPEN
    case.due_on = add_working_days(today, REVIEW_WORKING_DAYS)
    record(
        ctx.session,
        actor=actor,
        action="termination.appealed",
        object_type="termination",
        object_id=termination.id,
        region_code=termination.region_code,
        reason=reason,
        details={
            "case_id": str(case.id),
            "case_due_on": case.due_on.isoformat(),
            "late": notice is not None and today > notice.appeal_by,
        },
    )
    return case


@dataclass(frozen=True)
class RestorePreview:
    termination: Termination
    proof_checkin_id: uuid.UUID
    restored_on: date
    periods: list[str]
    amount: Decimal


def preview_restore(ctx: Ctx, *, case: ReviewCase, restored_on: date | None) -> RestorePreview:
    """What restoring would do now: the proof of life it rests on and the arrears. Refuses (409) when the
    person has no verified check-in since the termination."""
    beneficiary = ctx.session.get(Beneficiary, case.beneficiary_id)
    termination = under_appeal(ctx, beneficiary=beneficiary)
    if termination is None or termination.case_id != case.id:
        raise Conflict(
            "only a termination under appeal, on its own case, can be undone", {"decision": ["not_under_appeal"]}
        )
    today = office_today(ctx.settings)
    restored_on = restored_on or today
    if restored_on > today:
        raise DomainError.field("restored_on", "in_future", "a restoration cannot take effect in the future")
    if restored_on < termination.effective_on:
        raise DomainError.field("restored_on", "before_termination")
    proof = suspensions.proof_of_life(ctx, beneficiary_id=beneficiary.id, since=termination.approved_at)
    if proof is None:
        raise Conflict(
            "no verified check-in since the termination: the person must prove to be alive first",
            {"decision": ["no_proof_of_life"]},
        )
    periods = suspensions.withheld_periods(
        ctx, beneficiary=beneficiary, since=termination.effective_on, until=restored_on
    )
    amount = (beneficiary.monthly_amount * len(periods)).quantize(Decimal("0.01"))
    return RestorePreview(termination, proof, restored_on, periods, amount)


def _death_record_cases(ctx: Ctx, beneficiary_id: uuid.UUID) -> list[ReviewCase]:
    return list(
        ctx.session.scalars(
            select(ReviewCase)
            .where(ReviewCase.beneficiary_id == beneficiary_id, ReviewCase.kind == CaseKind.DEATH_RECORD)
            .order_by(ReviewCase.created_at)
        )
    )


def needs_dispute_reason(ctx: Ctx, *, case: ReviewCase) -> bool:
    """Whether restoring the person disputes a death record (which then needs a reason for its source)."""
    return bool(_death_record_cases(ctx, case.beneficiary_id))


def restore(
    ctx: Ctx, *, actor: Actor, case: ReviewCase, decision: CaseDecision, beneficiary: Beneficiary
) -> Termination:
    """Undo the termination (an approved restore decision): status active, arrears for the next payment run,
    payments no longer to recover, every death record of the person disputed, the person's other cases closed."""
    restored_on = date.fromisoformat(decision.params["restored_on"])
    preview = preview_restore(ctx, case=case, restored_on=restored_on)
    termination = preview.termination
    termination.restored_on = restored_on
    termination.restore_decision_id = decision.id
    termination.arrears_months = len(preview.periods)
    termination.arrears_amount = preview.amount
    beneficiary.status = BeneficiaryStatus.ACTIVE
    beneficiary.terminated_on = None
    set_state(case, CaseState.RESTORED, actor=actor, reason=decision.reason)
    # Proven alive: what was paid after the termination was due, not money to recover.
    clear_flags_after(ctx.session, actor=actor, beneficiary=beneficiary, effective_on=termination.effective_on)
    disputed = []
    for record_case in _death_record_cases(ctx, beneficiary.id):
        if ctx.session.scalar(select(DisputedDeathRecord.id).where(DisputedDeathRecord.case_id == record_case.id)):
            continue
        row = DisputedDeathRecord(
            case_id=record_case.id,
            beneficiary_id=beneficiary.id,
            region_code=record_case.region_code,
            source=record_case.details.get("source"),
            reference=record_case.details.get("reference"),
            date_of_death=date.fromisoformat(record_case.details["date_of_death"]),
            reason=decision.params["dispute_reason"],
            termination_id=termination.id,
            proof_checkin_id=preview.proof_checkin_id,
            disputed_by=_staff_id(actor),
        )
        ctx.session.add(row)
        disputed.append(row)
    ctx.session.flush()
    for row in disputed:
        record(
            ctx.session,
            actor=actor,
            action="death_record.disputed",
            object_type="disputed_death_record",
            object_id=row.id,
            region_code=row.region_code,
            reason=row.reason,
            details={"case_id": str(row.case_id), "source": row.source, "reference": row.reference},
        )
    closed = _close_other_cases(ctx, actor=actor, case=case, reason=CLOSED_BY_RESTORATION)
    record(
        ctx.session,
        actor=actor,
        action="beneficiary.restored",
        object_type="beneficiary",
        object_id=beneficiary.id,
        region_code=beneficiary.village_code,
        reason=decision.reason,
        details={
            "termination_id": str(termination.id),
            "case_id": str(case.id),
            "decision_id": str(decision.id),
            "proof_checkin_id": str(preview.proof_checkin_id),
            "restored_on": restored_on.isoformat(),
            "arrears_periods": preview.periods,
            "arrears_amount": str(preview.amount),
            "death_records_disputed": len(disputed),
            "other_cases_closed": closed,
        },
    )
    return termination


@dataclass(frozen=True)
class DisputedRecord:
    source: str | None
    reference: str | None
    date_of_death: date
    village_code: str
    name: str
    id_number_masked: str
    reason: str
    disputed_at: datetime
    beneficiary_id: uuid.UUID


def disputed_records(ctx: Ctx, *, actor: Actor, source: str | None = None) -> list[DisputedRecord]:
    """Death records disputed in the actor's region, by source registry then date, for the sources to correct."""
    query = (
        select(DisputedDeathRecord, Beneficiary)
        .join(Beneficiary, Beneficiary.id == DisputedDeathRecord.beneficiary_id)
        .where(in_scope(DisputedDeathRecord.region_code, actor.region_code))
    )
    if source:
        query = query.where(DisputedDeathRecord.source == source)
    rows = ctx.session.execute(
        query.order_by(DisputedDeathRecord.source, DisputedDeathRecord.disputed_at, DisputedDeathRecord.id)
    ).all()
    return [
        DisputedRecord(
            d.source,
            d.reference,
            d.date_of_death,
            b.village_code,
            b.name,
            b.id_number_masked,
            d.reason,
            d.disputed_at,
            b.id,
        )
        for d, b in rows
    ]


def per_source(records: list[DisputedRecord]) -> list[dict]:
    """How many disputed records each source registry has, most first."""
    counts: dict[str | None, int] = {}
    for item in records:
        counts[item.source] = counts.get(item.source, 0) + 1
    return [
        {"source": source, "count": count}
        for source, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] or ""))
    ]


def disputed_csv(records: list[DisputedRecord]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(DISPUTED_CSV_COLUMNS)
    for item in records:
        writer.writerow(
            neutral_row(
                [
                    item.source or "",
                    item.reference or "",
                    item.date_of_death.isoformat(),
                    item.village_code,
                    item.name,
                    item.id_number_masked,
                    item.reason,
                    item.disputed_at.date().isoformat(),
                ]
            )
        )
    # With a BOM, Excel on Chinese Windows opens the names correctly.
    return buffer.getvalue().encode("utf-8-sig")
