"""Reading visits: what a staff member may see, the views a reader gets, and the audit of each read."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row, bindparam, or_, select

from server.context import Ctx
from server.db import PageRequest, fetch_page
from server.models import Checkin, CheckinState, StaffRole, Visit, VisitFlag, VisitOutcome, VisitPhoto
from server.services.audit import Actor, record
from server.services.beneficiaries import get_beneficiary
from server.services.errors import NotFound
from server.services.regions import in_scope
from server.services.visits.findings import about


def _visible(actor: Actor):
    """Visits a staff member may see: a worker their own; others those of their region's people or team."""
    if actor.role == StaffRole.FIELD_WORKER:
        return (Visit.field_worker_id == uuid.UUID(actor.id)) & Visit.quarantined.is_(False)
    return or_(in_scope(Visit.region_code, actor.region_code), in_scope(Visit.worker_region_code, actor.region_code))


def get_visit(ctx: Ctx, *, actor: Actor, visit_id: uuid.UUID) -> Visit:
    visit = ctx.session.scalar(select(Visit).where(Visit.id == visit_id, _visible(actor)))
    if visit is None:
        raise NotFound("visit not found", {"visit_id": ["not_found"]})
    return visit


# Newest first, which ix_visit_list holds (read backwards) with both scope columns.
LIST_ORDER = (Visit.started_at.desc(), Visit.id.desc())


def list_visits(
    ctx: Ctx,
    *,
    actor: Actor,
    filters: Mapping[str, Any],
    page: PageRequest,
) -> tuple[list[Visit], int]:
    """Visits the actor may see, newest first, filtered by region, worker, period, outcome and flag (a page and
    the total, see fetch_page)."""
    query = select(Visit).where(_visible(actor))
    if filters.get("region_code"):
        query = query.where(in_scope(Visit.region_code, filters["region_code"]))
    if filters.get("worker_id"):
        query = query.where(Visit.field_worker_id == filters["worker_id"])
    if filters.get("started_from"):
        query = query.where(Visit.started_at >= filters["started_from"])
    if filters.get("started_to"):
        query = query.where(Visit.started_at < filters["started_to"])
    if filters.get("outcome"):
        query = query.where(Visit.outcome == filters["outcome"])
    if filters.get("flag"):
        query = query.where(Visit.id.in_(select(VisitFlag.visit_id).where(VisitFlag.code == filters["flag"])))
    if filters.get("flagged") is not None:
        flagged = Visit.id.in_(select(VisitFlag.visit_id))
        query = query.where(flagged if filters["flagged"] else ~flagged)
    return fetch_page(
        ctx.session,
        query,
        order_by=LIST_ORDER,
        page=page,
    )


def beneficiary_visits(
    ctx: Ctx, *, actor: Actor, beneficiary_id: uuid.UUID, page: PageRequest
) -> tuple[list[Visit], int]:
    """A person's visit history, their household's visits included, newest first."""
    beneficiary = get_beneficiary(ctx, actor=actor, beneficiary_id=beneficiary_id)
    query = select(Visit).where(_visible(actor), about(beneficiary))
    return fetch_page(ctx.session, query, order_by=LIST_ORDER, page=page)


# Every visit's view runs these, so they are built once (their cache keys and compiled forms are reused).
_PHOTOS = (
    select(VisitPhoto)
    .where(VisitPhoto.visit_id.in_(bindparam("ids", expanding=True)))
    .order_by(VisitPhoto.created_at, VisitPhoto.id)
)
_FLAGS = select(VisitFlag).where(VisitFlag.visit_id.in_(bindparam("ids", expanding=True))).order_by(VisitFlag.id)
# Of its linked check-ins a view shows these columns, and no more: a check-in's row carries its scores and the rest.
_LINKED_CHECKINS = (
    select(Checkin.visit_id, Checkin.id, Checkin.mode, Checkin.state, Checkin.decided_at)
    .where(Checkin.visit_id.in_(bindparam("ids", expanding=True)))
    .order_by(Checkin.created_at)
)


def photos_of(ctx: Ctx, *, visit_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[VisitPhoto]]:
    photos: dict[uuid.UUID, list[VisitPhoto]] = {v: [] for v in visit_ids}
    for photo in ctx.session.scalars(_PHOTOS, {"ids": visit_ids}):
        photos[photo.visit_id].append(photo)
    return photos


def shown_to(ctx: Ctx, *, actor: Actor, visits: list[Visit]) -> list[dict[str, Any]]:
    """The visits' views for a reader, with the read audited (GPS at a home, health answers).

    The entry is committed with the caller's unit of work (a GET's too), or not at all.

    One entry per response, naming every visit in it: a page of fifty is one chained entry, not fifty.
    """
    shown = views(ctx, visits=visits)
    if not visits:
        return shown
    record(
        ctx.session,
        actor=actor,
        action="visit.viewed",
        object_type="visit",
        object_id=visits[0].id if len(visits) == 1 else "list",
        region_code=visits[0].region_code if len(visits) == 1 else actor.region_code,
        details={"visit_ids": [str(v.id) for v in visits]},
    )
    return shown


def views(ctx: Ctx, *, visits: list[Visit]) -> list[dict[str, Any]]:
    """Visits with their flags, photos, linked check-ins and whether they prove the person alive."""
    ids = [v.id for v in visits]
    flags: dict[uuid.UUID, list[VisitFlag]] = defaultdict(list)
    for flag in ctx.session.scalars(_FLAGS, {"ids": ids}):
        flags[flag.visit_id].append(flag)
    checkins: dict[uuid.UUID, list[Row]] = defaultdict(list)
    for checkin in ctx.session.execute(_LINKED_CHECKINS, {"ids": ids}):
        checkins[checkin.visit_id].append(checkin)
    photos = photos_of(ctx, visit_ids=ids)
    return [
        {
            "visit": v,
            "flags": flags[v.id],
            "photos": photos[v.id],
            "checkins": checkins[v.id],
            "proof_of_life": _proves_life(v, checkins[v.id]),
        }
        for v in visits
    ]


def _proves_life(visit: Visit, checkins: list[Row]) -> bool:
    return visit.outcome == VisitOutcome.CONFIRMED_PRESENT and any(c.state == CheckinState.VERIFIED for c in checkins)
