"""Recording one visit: stored once per client id, with its signals, findings and task completion."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.context import Ctx
from server.db import savepoint
from server.models import Beneficiary, StaffUser, Visit, VisitTask, VisitTaskState, utcnow
from server.services.audit import Actor, record
from server.services.beneficiaries import scoped_query
from server.services.errors import DomainError, NotFound
from server.services.regions import within
from server.services.visits.checklist import validate_visit
from server.services.visits.findings import open_findings
from server.services.visits.flags import raise_flags

# Outside the worker's scope looks exactly like missing, so a worker learns nothing about other regions.
NOT_IN_YOUR_REGION = {"beneficiary_id": ["not_in_your_region"]}


@dataclass
class ItemResult:
    """What happened to one submitted visit: created, duplicate, updated or rejected (with reasons)."""

    status: str
    client_id: str | None = None
    visit: Visit | None = None
    http_status: int = 200
    errors: dict[str, list[str]] = field(default_factory=dict)

    def as_error(self) -> DomainError:
        error = DomainError("the visit was not accepted", self.errors)
        error.status = self.http_status
        return error


def _fix_json(fix: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "lat": fix["lat"],
        "lon": fix["lon"],
        "accuracy_m": fix["accuracy_m"],
        "fix_time": fix["fix_time"].astimezone(UTC).isoformat(),
        "provider": fix.get("provider"),
        "mock_location": bool(fix.get("mock_location", False)),
    }


def _household_members(ctx: Ctx, actor: Actor, household_code: str) -> list[Beneficiary]:
    return list(
        ctx.session.scalars(
            scoped_query(actor).where(Beneficiary.household_code == household_code).order_by(Beneficiary.id)
        )
    )


def find_by_client_id(ctx: Ctx, *, actor: Actor, client_id: str) -> Visit | None:
    return ctx.session.scalar(
        select(Visit).where(Visit.field_worker_id == uuid.UUID(actor.id), Visit.client_id == client_id)
    )


def _stored(visit: Visit, client_id: str, status: str) -> ItemResult:
    if visit.quarantined:
        # A retry gets the same answer as the first try, and still nothing about the person.
        return ItemResult("rejected", client_id, http_status=404, errors=NOT_IN_YOUR_REGION)
    return ItemResult(status, client_id, visit, http_status=201 if status == "created" else 200)


def record_visit(ctx: Ctx, *, actor: Actor, data: Mapping[str, Any], device_sent_at: datetime | None) -> ItemResult:
    """Store one visit with its signals and findings, or say why not; a resubmission changes nothing.

    The visit is written in a savepoint, so a rejected or duplicate visit leaves the caller's unit as it was.
    """
    client_id = data["client_id"]
    # One worker's visits are recorded one at a time, so each sees the neighbours its signals compare with.
    ctx.session.scalar(select(StaffUser.id).where(StaffUser.id == uuid.UUID(actor.id)).with_for_update())
    existing = find_by_client_id(ctx, actor=actor, client_id=client_id)
    if existing is not None:
        return _stored(existing, client_id, "duplicate")
    try:
        with savepoint(ctx.session):
            validate_visit(data)
            visit = _create(ctx, actor=actor, data=data, device_sent_at=device_sent_at)
    except DomainError as exc:
        return ItemResult("rejected", client_id, http_status=exc.status, errors=exc.errors)
    except IntegrityError:
        # The same client id arrived twice at once (a retry racing the first try): the other one stored it.
        existing = find_by_client_id(ctx, actor=actor, client_id=client_id)
        if existing is None:
            raise
        return _stored(existing, client_id, "duplicate")
    return _stored(visit, client_id, "created")


def _create(ctx: Ctx, *, actor: Actor, data: Mapping[str, Any], device_sent_at: datetime | None) -> Visit:
    quarantined = False
    if data.get("beneficiary_id") is not None:
        beneficiary = ctx.session.get(Beneficiary, data["beneficiary_id"])
        if beneficiary is None:
            raise NotFound("no such beneficiary in your region", NOT_IN_YOUR_REGION)
        # Kept for review rather than lost: a worker recording visits outside their region is itself a finding.
        quarantined = not within(actor.region_code, beneficiary.village_code)
        members = [beneficiary]
        household_code = beneficiary.household_code
    else:
        household_code = data["household_code"]
        members = _household_members(ctx, actor, household_code)
        if not members:
            raise NotFound("no such household in your region", {"household_code": ["not_in_your_region"]})
    visit = Visit(
        id=uuid.uuid4(),
        field_worker_id=uuid.UUID(actor.id),
        client_id=data["client_id"],
        beneficiary_id=data.get("beneficiary_id"),
        household_code=household_code,
        region_code=members[0].village_code,
        worker_region_code=actor.region_code,
        started_at=data["started_at"],
        ended_at=data["ended_at"],
        received_at=utcnow(),
        device_sent_at=device_sent_at,
        gps_fixes=[_fix_json(f) for f in data["gps"]],
        checklist_version=data["checklist_version"],
        checklist=dict(data["checklist"]),
        outcome=data["outcome"],
        notes=data.get("notes"),
        device_info=dict(data.get("device") or {}),
        quarantined=quarantined,
    )
    ctx.session.add(visit)
    ctx.session.flush()
    record(
        ctx.session,
        actor=actor,
        action="visit.recorded",
        object_type="visit",
        object_id=visit.id,
        region_code=visit.region_code,
        details={"outcome": visit.outcome.value, "client_id": visit.client_id},
    )
    raise_flags(ctx, actor=actor, visit=visit, subject=members[0])
    if not quarantined:
        open_findings(ctx, actor=actor, visit=visit, members=members)
        _complete_tasks(ctx, actor, visit, members)
    return visit


def _complete_tasks(ctx: Ctx, actor: Actor, visit: Visit, members: list[Beneficiary]) -> None:
    """A visit by the worker a supervisor sent does the ordered task, whatever it found."""
    tasks = ctx.session.scalars(
        select(VisitTask).where(
            VisitTask.beneficiary_id.in_([m.id for m in members]),
            VisitTask.field_worker_id == visit.field_worker_id,
            VisitTask.state == VisitTaskState.OPEN,
        )
    ).all()
    for task in tasks:
        task.state, task.done_at, task.visit_id = VisitTaskState.DONE, visit.received_at, visit.id
        record(
            ctx.session,
            actor=actor,
            action="visit_task.done",
            object_type="visit_task",
            object_id=task.id,
            region_code=task.region_code,
            details={"visit_id": str(visit.id), "case_id": str(task.case_id) if task.case_id else None},
        )
