"""What a beneficiary's own phone shows: are they covered or due, their past check-ins, their notices."""

from __future__ import annotations

import uuid
from datetime import date, timedelta, tzinfo
from typing import Any

from sqlalchemy import exists, literal, select

from server.context import Ctx
from server.models import Beneficiary, Checkin, CheckinState, Notice
from server.services import checkins, cycles
from server.services.audit import Actor

HISTORY_LIMIT = 20


def period_standing(ctx: Ctx, *, beneficiary: Beneficiary, today: date, zone: tzinfo) -> dict[str, Any]:
    """The period today falls in: the person's cycle, or the calendar quarter where none is configured."""
    session = ctx.session
    cycle = cycles.cycle_for(ctx, beneficiary=beneficiary, on_date=today)
    if cycle is not None:
        win = cycles.window(cycle, zone)
        satisfied = session.scalar(select(cycles.satisfied(cycle, win, literal(beneficiary.id))))
        return {"deadline": cycle.deadline, "last_day": cycle.closes_on, "satisfied": bool(satisfied)}
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
    }
