"""Edits from devices against the version they read, and batch sync of new visits and edits."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.config import Settings
from server.context import Ctx
from server.db import savepoint, unit_of_work
from server.models import Visit
from server.services.audit import Actor, record
from server.services.errors import Conflict, DomainError, Forbidden
from server.services.visits.checklist import EDITABLE_FIELDS, validate_visit
from server.services.visits.findings import members_of, open_findings
from server.services.visits.recording import ItemResult, find_by_client_id, record_visit


class PayloadTooLarge(DomainError):
    status = 413


def _edit_digest(based_on_version: int, changes: Mapping[str, Any]) -> str:
    body = {"based_on_version": based_on_version, **changes}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def edit_visit(
    ctx: Ctx,
    *,
    actor: Actor,
    visit: Visit,
    based_on_version: int,
    changes: Mapping[str, Any],
) -> str:
    """Apply an edit made on the device to the version it read; returns "updated" or "duplicate".

    An edit based on an older version is refused (409 stale_version), except the retry of the edit that
    made the current version, which changes nothing.
    """
    if visit.field_worker_id != uuid.UUID(actor.id):
        raise Forbidden("only the worker who recorded a visit may edit it", {"_": ["not_your_visit"]})
    changes = {k: v for k, v in changes.items() if k in EDITABLE_FIELDS}
    digest = _edit_digest(based_on_version, changes)
    if based_on_version != visit.version:
        if based_on_version == visit.version - 1 and digest == visit.last_edit_digest:
            return "duplicate"
        raise Conflict(
            f"the visit is at version {visit.version}; read it again and redo the edit",
            {"based_on_version": ["stale_version"]},
        )
    merged = {
        "checklist_version": visit.checklist_version,
        "checklist": visit.checklist,
        "started_at": visit.started_at,
        "ended_at": visit.ended_at,
        "household_code": visit.household_code if visit.beneficiary_id is None else None,
        "outcome": visit.outcome,
        **changes,
    }
    validate_visit(merged)
    changed = [name for name in EDITABLE_FIELDS if name in changes and getattr(visit, name) != changes[name]]
    for name in changed:
        setattr(visit, name, changes[name])
    # Always written, so even an edit that changes nothing moves the version on and the device's copy agrees.
    visit.last_edit_digest = digest
    ctx.session.flush()
    record(
        ctx.session,
        actor=actor,
        action="visit.edited",
        object_type="visit",
        object_id=visit.id,
        region_code=visit.region_code,
        details={"fields": changed, "version": visit.version},
    )
    if "outcome" in changed and not visit.quarantined:
        open_findings(ctx, actor=actor, visit=visit, members=members_of(ctx, visit=visit))
    return "updated"


def edit_by_client_id(
    ctx: Ctx,
    *,
    actor: Actor,
    client_id: str,
    based_on_version: int,
    changes: Mapping[str, Any],
) -> ItemResult:
    """A batch item that edits a visit the device synced earlier, named by its client id."""
    visit = find_by_client_id(ctx, actor=actor, client_id=client_id)
    if visit is None or visit.quarantined:
        return ItemResult("rejected", client_id, http_status=404, errors={"client_id": ["visit_not_found"]})
    try:
        with savepoint(ctx.session):
            status = edit_visit(ctx, actor=actor, visit=visit, based_on_version=based_on_version, changes=changes)
    except DomainError as exc:
        return ItemResult("rejected", client_id, http_status=exc.status, errors=exc.errors)
    return ItemResult(status, client_id, visit)


# ---------------------------------------------------------------------------------------------
# Batch sync


@dataclass(frozen=True)
class BatchItem:
    """One item of a sync: a new visit, an edit (it carries based_on_version), or what made it invalid."""

    client_id: str | None
    data: Mapping[str, Any] | None = None
    errors: dict[str, list[str]] | None = None

    @property
    def is_edit(self) -> bool:
        return self.data is not None and "based_on_version" in self.data


def check_batch_size(settings: Settings, count: int) -> None:
    limit = settings.visits.batch_limit
    if count > limit:
        raise PayloadTooLarge(f"send at most {limit} visits per sync", {"visits": ["batch_too_large"]})


def sync_batch(ctx: Ctx, *, actor: Actor, items: list[BatchItem], device_sent_at: datetime | None) -> list[ItemResult]:
    """Apply each item in its own unit of work: a bad item is reported and never sinks the others.

    Every accepted item is committed before the next one starts, so a dropped connection loses nothing
    and sending the same batch again gives the same visits back. Opens its own units: call it outside one.
    """
    check_batch_size(ctx.settings, len(items))
    results = []
    for item in items:
        with unit_of_work(ctx.session):
            results.append(_apply(ctx, actor=actor, item=item, device_sent_at=device_sent_at))
    return results


def _apply(ctx: Ctx, *, actor: Actor, item: BatchItem, device_sent_at: datetime | None) -> ItemResult:
    if item.errors is not None:
        return ItemResult("rejected", item.client_id, http_status=422, errors=item.errors)
    if item.is_edit:
        changes = {k: v for k, v in item.data.items() if k not in ("client_id", "based_on_version")}
        return edit_by_client_id(
            ctx,
            actor=actor,
            client_id=item.client_id,
            based_on_version=item.data["based_on_version"],
            changes=changes,
        )
    sent = item.data.get("device_sent_at") or device_sent_at
    return record_visit(ctx, actor=actor, data=item.data, device_sent_at=sent)
