"""Per-worker visit counts and flag rates for supervisors."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from server.context import Ctx
from server.models import StaffRole, StaffUser, Visit, VisitFlag
from server.services.audit import Actor
from server.services.regions import in_scope


def team_stats(
    ctx: Ctx,
    *,
    actor: Actor,
    started_from: datetime | None,
    started_to: datetime | None,
    region_code: str | None,
) -> list[dict[str, Any]]:
    """Per field worker in the actor's region: visits in the period, how many were flagged, and by which flag."""
    workers = select(StaffUser).where(
        StaffUser.role == StaffRole.FIELD_WORKER, in_scope(StaffUser.region_code, actor.region_code)
    )
    if region_code:
        workers = workers.where(in_scope(StaffUser.region_code, region_code))
    team = list(ctx.session.scalars(workers.order_by(StaffUser.region_code, StaffUser.username)))
    period = [Visit.field_worker_id.in_([w.id for w in team])]
    if started_from:
        period.append(Visit.started_at >= started_from)
    if started_to:
        period.append(Visit.started_at < started_to)
    totals = dict(
        ctx.session.execute(
            select(Visit.field_worker_id, func.count()).where(*period).group_by(Visit.field_worker_id)
        ).all()
    )
    flagged = dict(
        ctx.session.execute(
            select(Visit.field_worker_id, func.count(func.distinct(Visit.id)))
            .join(VisitFlag, VisitFlag.visit_id == Visit.id)
            .where(*period)
            .group_by(Visit.field_worker_id)
        ).all()
    )
    by_flag: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for worker_id, code, count in ctx.session.execute(
        select(Visit.field_worker_id, VisitFlag.code, func.count())
        .join(VisitFlag, VisitFlag.visit_id == Visit.id)
        .where(*period)
        .group_by(Visit.field_worker_id, VisitFlag.code)
    ):
        by_flag[worker_id][code.value] = count
    return [
        {
            "worker_id": w.id,
            "username": w.username,
            "display_name": w.display_name,
            "region_code": w.region_code,
            "visits": totals.get(w.id, 0),
            "flagged": flagged.get(w.id, 0),
            "flag_rate": round(flagged.get(w.id, 0) / totals[w.id], 4) if totals.get(w.id) else 0.0,
            "by_flag": by_flag.get(w.id, {}),
        }
        for w in team
    ]
