"""What a beneficiary's own phone shows: are they covered or due, their past check-ins, their notices."""

from __future__ import annotations

import uuid
from datetime import date, timedelta, tzinfo
from typing import Any

from sqlalchemy import exists, func, literal, select

from server.context import Ctx
from server.models import Beneficiary, Checkin, CheckinState, EnrolmentPhoto, Notice, PhotoState, Visit
from server.services import checkins, consent, cycles
from server.services.audit import Actor, record

HISTORY_LIMIT = 20
# What "my data" lists of each kind at most, newest first; the totals say how many there are.
MY_DATA_LIMIT = 200


def period_standing(ctx: Ctx, *, beneficiary: Beneficiary, today: date, zone: tzinfo) -> dict[str, Any]:
    """The period today falls in: the person's cycle, or the calendar quarter where none is configured."""
    session = ctx.session
    cycle = cycles.cycle_for(ctx, beneficiary=beneficiary, on_date=today)
    if cycle is not None:
        win = cycles.window(cycle, zone)
        satisfied = session.scalar(select(cycles.satisfied(cycle, win, literal(beneficiary.id))))
        deadline, last_day = cycles.person_deadline(ctx, cycle=cycle, beneficiary_id=beneficiary.id, zone=zone)
        return {"deadline": deadline, "last_day": last_day, "satisfied": bool(satisfied)}
    quarter = cycles.period_for(ctx, beneficiary=beneficiary, on_date=today, zone=zone)
    last_day = (quarter.end.astimezone(zone) - timedelta(days=1)).date()
    verified = session.scalar(
        select(
            exists().where(
                Checkin.beneficiary_id == beneficiary.id,
                Checkin.state == CheckinState.VERIFIED,
                Checkin.created_at >= quarter.start,
                Checkin.created_at < quarter.end,
            )
        )
    )
    return {"deadline": last_day, "last_day": last_day, "satisfied": bool(verified)}


def _notice(notice: Notice) -> dict[str, Any]:
    return {
        "id": notice.id,
        "kind": notice.kind.value,
        "what": notice.what,
        "why": notice.why,
        "note_for_person": notice.note_for_person,
        "evidence": notice.evidence,
        "how_to_appeal": notice.how_to_appeal,
        "appeal_by": notice.appeal_by,
        "created_at": notice.created_at,
    }


def home(ctx: Ctx, *, actor: Actor) -> dict[str, Any]:
    """The device's person: covered until when or due by when, lockout, this phone's check-ins, notices."""
    session = ctx.session
    beneficiary = session.get(Beneficiary, uuid.UUID(actor.beneficiary_id))
    zone = cycles.office_zone(ctx.settings)
    period = period_standing(ctx, beneficiary=beneficiary, today=cycles.local_today(zone), zone=zone)
    history = session.scalars(
        select(Checkin)
        .where(Checkin.beneficiary_id == beneficiary.id, Checkin.device_id == uuid.UUID(actor.id))
        .order_by(Checkin.created_at.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    notices = session.scalars(
        select(Notice).where(Notice.beneficiary_id == beneficiary.id).order_by(Notice.created_at.desc())
    ).all()
    return {
        "name": beneficiary.name,
        "status": beneficiary.status.value,
        "covered_until": period["last_day"] if period["satisfied"] else None,
        "due_by": None if period["satisfied"] else period["deadline"],
        "locked_until": checkins.lockout_until(ctx, beneficiary_id=beneficiary.id),
        "checkins": [checkins.device_view(c) for c in history],
        "notices": [_notice(n) for n in notices],
        "consent_withdrawn_at": consent.withdrawn_at(session, beneficiary_id=beneficiary.id),
    }


def _device_person(ctx: Ctx, actor: Actor) -> Beneficiary:
    return ctx.session.get(Beneficiary, uuid.UUID(actor.beneficiary_id))


def my_data(ctx: Ctx, *, actor: Actor) -> dict[str, Any]:
    """What FieldCheck holds about the device's person (PIPL art. 45): check-ins with dates and verdicts
    (from every phone and helper), home visits with dates, notices, face photos kept, and the consents
    given. Scores, locations and staff notes are not the phone's to show. The listing is audited."""
    session = ctx.session
    person = _device_person(ctx, actor)
    mine = Checkin.beneficiary_id == person.id
    checkin_rows = session.scalars(select(Checkin).where(mine).order_by(Checkin.created_at.desc()).limit(MY_DATA_LIMIT))
    visited = Visit.beneficiary_id == person.id
    if person.household_code:
        # A visit to the household (no one person named) concerns every member.
        visited = visited | ((Visit.household_code == person.household_code) & Visit.beneficiary_id.is_(None))
    visit_rows = session.execute(
        select(Visit.id, Visit.started_at, Visit.outcome)
        .where(visited)
        .order_by(Visit.started_at.desc())
        .limit(MY_DATA_LIMIT)
    ).all()
    notices = session.scalars(
        select(Notice).where(Notice.beneficiary_id == person.id).order_by(Notice.created_at.desc())
    )
    photos = session.scalar(
        select(func.count()).where(
            EnrolmentPhoto.beneficiary_id == person.id, EnrolmentPhoto.state == PhotoState.ENCODED
        )
    )
    consents = consent.consents_of(session, beneficiary_id=person.id)
    record(
        session,
        actor=actor,
        action="personal_data.listed",
        object_type="beneficiary",
        object_id=person.id,
        region_code=person.village_code,
    )
    return {
        "name": person.name,
        "status": person.status.value,
        "checkins": [{**checkins.device_view(c), "mode": c.mode.value} for c in checkin_rows],
        "checkins_total": session.scalar(select(func.count()).where(mine)),
        "visits": [{"id": v.id, "visited_at": v.started_at, "outcome": v.outcome.value} for v in visit_rows],
        "notices": [_notice(n) for n in notices],
        "enrolment_photos": photos,
        "consents": [
            {
                "text_version": c.text_version,
                "agreed_at": c.agreed_at,
                "withdrawn_at": c.withdrawn_at,
                "this_phone": str(c.device_id) == actor.id,
            }
            for c in consents
        ],
        "consent_withdrawn_at": consent.withdrawn_at(session, beneficiary_id=person.id),
        "retention_days": {
            "checkin_frames": ctx.settings.retention.checkin_frame_days,
            "visit_photos": ctx.settings.retention.visit_photo_days,
            "enrolment_photos_after_termination": ctx.settings.retention.enrolment_photo_days_after_termination,
        },
    }


def withdraw_consent(ctx: Ctx, *, actor: Actor) -> dict[str, Any]:
    """The device's person withdraws consent to face processing (consent.withdraw)."""
    when = consent.withdraw(ctx, actor=actor, beneficiary=_device_person(ctx, actor))
    return {
        "consent_withdrawn_at": when,
        "message": dict(zip(("zh", "en"), consent.WITHDRAWN, strict=True)),
    }
