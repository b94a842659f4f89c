"""Notices to the supervisors of a region about changes worth a second look; the console lists them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.context import Ctx
from server.db import PageRequest, fetch_page
from server.models import Beneficiary, StaffNotification, utcnow
from server.services.audit import Actor, record
from server.services.errors import NotFound
from server.services.regions import in_scope


def notify_staff(
    session: Session, *, kind: str, beneficiary: Beneficiary, actor: Actor, details: dict[str, Any]
) -> StaffNotification:
    """Add a notice for the person's region; the caller's audit entry records the change itself. Flushes."""
    notice = StaffNotification(
        kind=kind,
        beneficiary_id=beneficiary.id,
        region_code=beneficiary.village_code,
        created_by=uuid.UUID(actor.id) if actor.kind == "staff" else None,
        details=details,
    )
    session.add(notice)
    session.flush()
    return notice


def list_notifications(ctx: Ctx, *, actor: Actor, page: PageRequest) -> tuple[list[StaffNotification], int]:
    """Notices in the actor's region, newest first."""
    query = select(StaffNotification).where(in_scope(StaffNotification.region_code, actor.region_code))
    return fetch_page(
        ctx.session, query, order_by=(StaffNotification.created_at.desc(), StaffNotification.id), page=page
    )


def unseen_count(ctx: Ctx, *, actor: Actor) -> int:
    """How many notices in the actor's region nobody has marked seen yet."""
    return ctx.session.scalar(
        select(func.count())
        .select_from(StaffNotification)
        .where(in_scope(StaffNotification.region_code, actor.region_code), StaffNotification.read_at.is_(None))
    )


def mark_seen(ctx: Ctx, *, actor: Actor, notification_id: uuid.UUID) -> StaffNotification:
    """Record that a supervisor has looked into the notice (once: a later mark changes nothing); audited."""
    notice = ctx.session.scalar(
        select(StaffNotification).where(
            StaffNotification.id == notification_id, in_scope(StaffNotification.region_code, actor.region_code)
        )
    )
    if notice is None:
        raise NotFound("notice not found", {"notification_id": ["not_found"]})
    if notice.read_at is None:
        notice.read_at = utcnow()
        record(
            ctx.session,
            actor=actor,
            action="staff_notification.seen",
            object_type="staff_notification",
            object_id=notice.id,
            region_code=notice.region_code,
            details={"kind": notice.kind, "beneficiary_id": str(notice.beneficiary_id)},
        )
    return notice
