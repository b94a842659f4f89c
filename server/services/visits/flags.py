"""Fraud signals on a visit (distance, accuracy, travel, desk clusters) and the cases they open."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from server.context import Ctx
from server.models import Beneficiary, CaseKind, Visit, VisitFlag, VisitFlagCode, utcnow
from server.services import visit_signals
from server.services.audit import Actor, record
from server.services.cases import open_case
from server.services.visits.findings import members_of


def _place(visit: Visit, home: Beneficiary | None) -> visit_signals.Place:
    fixes = tuple(
        visit_signals.Fix(
            lat=f["lat"],
            lon=f["lon"],
            accuracy_m=f["accuracy_m"],
            fix_time=datetime.fromisoformat(f["fix_time"]),
            mock_location=f["mock_location"],
        )
        for f in visit.gps_fixes
    )
    has_home = home is not None and home.home_lat is not None and home.home_lon is not None
    return visit_signals.Place(
        visit_id=visit.id,
        household=visit.household_code or str(visit.beneficiary_id),
        started_at=visit.started_at,
        ended_at=visit.ended_at,
        fixes=fixes,
        home=(home.home_lat, home.home_lon) if has_home else None,
    )


def _place_of(ctx: Ctx, visit: Visit) -> visit_signals.Place:
    """A stored visit as the signals see it; a household's first member's home stands for the household's."""
    members = members_of(ctx, visit=visit)
    return _place(visit, members[0] if members else None)


def _neighbour(ctx: Ctx, visit: Visit, *, later: bool) -> Visit | None:
    query = select(Visit).where(Visit.field_worker_id == visit.field_worker_id, Visit.id != visit.id)
    if later:
        query = query.where(Visit.started_at >= visit.started_at).order_by(Visit.started_at, Visit.id)
    else:
        query = query.where(Visit.started_at <= visit.started_at).order_by(Visit.started_at.desc(), Visit.id)
    return ctx.session.scalar(query.limit(1))


def raise_flags(ctx: Ctx, *, actor: Actor, visit: Visit, subject: Beneficiary) -> None:
    limits = ctx.settings.visits
    window = timedelta(minutes=limits.cluster_window_minutes)
    nearby = list(
        ctx.session.scalars(
            select(Visit).where(
                Visit.field_worker_id == visit.field_worker_id,
                Visit.id != visit.id,
                Visit.started_at.between(visit.started_at - window, visit.started_at + window),
            )
        )
    )
    before, after = _neighbour(ctx, visit, later=False), _neighbour(ctx, visit, later=True)
    signals = visit_signals.assess(
        _place(visit, subject),
        before=_place_of(ctx, before) if before else None,
        after=_place_of(ctx, after) if after else None,
        nearby=[_place_of(ctx, v) for v in nearby],
        received_at=visit.received_at,
        device_sent_at=visit.device_sent_at,
        worker_region=actor.region_code,
        village_code=subject.village_code,
        limits=limits,
    )
    for signal in signals:
        _flag(ctx, actor, visit, signal.code, signal.details)
        for partner_id in signal.partners:
            _flag(ctx, actor, ctx.session.get(Visit, partner_id), signal.code, {"with_visit_id": str(visit.id)})


def _flag(ctx: Ctx, actor: Actor, visit: Visit, code: VisitFlagCode, details: dict[str, Any]) -> None:
    """Put a flag on a visit (once) and make sure a location_anomaly case is open for it."""
    exists = ctx.session.scalar(select(VisitFlag.id).where(VisitFlag.visit_id == visit.id, VisitFlag.code == code))
    if exists is not None:
        return
    ctx.session.add(VisitFlag(visit_id=visit.id, code=code, details=details, raised_at=utcnow()))
    ctx.session.flush()
    record(
        ctx.session,
        actor=actor,
        action="visit.flagged",
        object_type="visit",
        object_id=visit.id,
        region_code=visit.region_code,
        details={"flag": code.value},
    )
    subject = (
        ctx.session.get(Beneficiary, visit.beneficiary_id) if visit.beneficiary_id else members_of(ctx, visit=visit)[0]
    )
    open_case(
        ctx,
        kind=CaseKind.LOCATION_ANOMALY,
        beneficiary=subject,
        dedupe_key=f"location_anomaly:visit:{visit.id}",
        summary="A home visit's location or timing looks wrong: check that the visit really happened",
        details={"visit_id": str(visit.id), "field_worker_id": str(visit.field_worker_id), "first_flag": code.value},
        actor=actor,
    )
