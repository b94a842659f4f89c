"""Notices to the supervisors of a region about changes worth a second look; the console lists them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.context import Ctx
from server.db import PageRequest, fetch_page
from server.models import Beneficiary, StaffNotification
from server.services.audit import Actor
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
