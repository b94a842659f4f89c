"""Visit tasks: home visits a supervisor ordered, listed for the field worker who is to make them."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select

from server.context import Ctx
from server.db import PageRequest, fetch_page
from server.models import Beneficiary, ReviewCase, StaffRole, StaffUser, VisitTask, VisitTaskState
from server.services.audit import Actor, record
from server.services.errors import DomainError
from server.services.regions import in_scope, within


def _field_worker(ctx: Ctx, actor: Actor, beneficiary: Beneficiary, field_worker_id: uuid.UUID) -> StaffUser:
    """An active field worker inside the actor's region whose own region covers the beneficiary's village."""
    worker = ctx.session.get(StaffUser, field_worker_id)
    if (
        worker is None
        or not worker.is_active
        or worker.role != StaffRole.FIELD_WORKER
        or not within(actor.region_code, worker.region_code)
        or not within(worker.region_code, beneficiary.village_code)
    ):
        raise DomainError.field(
            "field_worker_id", "not_a_field_worker_in_scope", "name an active field worker who covers this village"
        )
    return worker


def create_task(
    ctx: Ctx,
    *,
    actor: Actor,
    case: ReviewCase,
    beneficiary: Beneficiary,
    field_worker_id: uuid.UUID,
    due_on: date,
) -> VisitTask:
    worker = _field_worker(ctx, actor, beneficiary, field_worker_id)
    task = VisitTask(
        beneficiary_id=beneficiary.id,
        case_id=case.id,
        field_worker_id=worker.id,
        region_code=beneficiary.village_code,
        due_on=due_on,
        created_by=uuid.UUID(actor.id),
    )
    ctx.session.add(task)
    ctx.session.flush()
    record(
        ctx.session,
        actor=actor,
        action="visit_task.created",
        object_type="visit_task",
        object_id=task.id,
        region_code=task.region_code,
        details={"case_id": str(case.id), "field_worker_id": str(worker.id), "due_on": due_on.isoformat()},
    )
    return task


# Soonest due first, which ix_visit_task_list holds with the scope column.
LIST_ORDER = (VisitTask.due_on, VisitTask.created_at, VisitTask.id)


def list_tasks(
    ctx: Ctx,
    *,
    actor: Actor,
    state: VisitTaskState | None,
    page: PageRequest,
) -> tuple[list[VisitTask], int]:
    """A field worker's own tasks; supervisors and admins see every task in their region. Soonest due first."""
    query = select(VisitTask).where(in_scope(VisitTask.region_code, actor.region_code))
    if actor.role == StaffRole.FIELD_WORKER:
        query = query.where(VisitTask.field_worker_id == uuid.UUID(actor.id))
    if state:
        query = query.where(VisitTask.state == state)
    return fetch_page(
        ctx.session,
        query,
        order_by=LIST_ORDER,
        page=page,
    )
