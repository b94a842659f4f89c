"""Four eyes on an enrolled person's photos: whoever sets the templates decides whose face checks in.

Adding, replacing or retiring photos of someone already enrolled is a proposal: the new photos are
stored but not encoded (state `proposed`) and the old ones keep counting, until a supervisor or admin
other than the proposer approves. A rejected proposal's photos are retired unseen by matching.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select, update

from server.context import Ctx
from server.db import PageRequest, fetch_page, unit_of_work
from server.models import (
    Beneficiary,
    EnrolmentPhoto,
    PhotoChange,
    PhotoChangeKind,
    PhotoChangeStatus,
    PhotoState,
    utcnow,
)
from server.services.audit import Actor, record
from server.services.beneficiaries import get_beneficiary
from server.services.enrolment import ENCODE_TASK, Upload, add_photos, retire_photos
from server.services.errors import Conflict, DomainError, Forbidden, NotFound
from server.services.regions import in_scope

APPROVER_ROLES = ("admin", "supervisor")


def is_enrolled(ctx: Ctx, *, beneficiary_id: uuid.UUID) -> bool:
    """Whether the person has a template in use: from then on their photos change only under four eyes."""
    return (
        ctx.session.scalar(
            select(EnrolmentPhoto.id)
            .where(EnrolmentPhoto.beneficiary_id == beneficiary_id, EnrolmentPhoto.state == PhotoState.ENCODED)
            .limit(1)
        )
        is not None
    )


def upload(
    ctx: Ctx,
    *,
    actor: Actor,
    beneficiary: Beneficiary,
    uploads: list[Upload],
    replace: bool,
    reason: str | None,
) -> list[EnrolmentPhoto]:
    """Enrol at once a person not yet enrolled; for anyone else, propose the new photos."""
    if not is_enrolled(ctx, beneficiary_id=beneficiary.id):
        return add_photos(ctx, actor=actor, beneficiary=beneficiary, uploads=uploads, replace=replace)
    kind = PhotoChangeKind.REPLACE if replace else PhotoChangeKind.ADD
    change = propose(
        ctx, actor=actor, beneficiary=beneficiary, kind=kind, reason=reason or f"{kind.value} enrolment photos"
    )
    return add_photos(ctx, actor=actor, beneficiary=beneficiary, uploads=uploads, replace=replace, change=change)


def retire(
    ctx: Ctx, *, actor: Actor, beneficiary: Beneficiary, photo: EnrolmentPhoto, reason: str | None
) -> PhotoChange | None:
    """Retire a photo that never counted at once; propose retiring one in use."""
    if photo.state != PhotoState.ENCODED:
        retire_photos(
            ctx, actor=actor, beneficiary=beneficiary, reason=reason or "retired by staff", photo_ids=[photo.id]
        )
        return None
    return propose(
        ctx,
        actor=actor,
        beneficiary=beneficiary,
        kind=PhotoChangeKind.RETIRE,
        reason=reason or "retire an enrolment photo",
        retire_photo_ids=[photo.id],
    )


def propose(
    ctx: Ctx,
    *,
    actor: Actor,
    beneficiary: Beneficiary,
    kind: PhotoChangeKind,
    reason: str,
    retire_photo_ids: list[uuid.UUID] | None = None,
) -> PhotoChange:
    """Record a pending change; an `add` or `replace` then attaches its photos in state `proposed`. Flushes."""
    session = ctx.session
    if pending_of(ctx, beneficiary_id=beneficiary.id) is not None:
        raise Conflict("a change to this person's photos already waits for approval", {"_": ["photo_change_pending"]})
    change = PhotoChange(
        beneficiary_id=beneficiary.id,
        kind=kind,
        proposed_by=uuid.UUID(actor.id),
        reason=reason,
        retire_photo_ids=[str(p) for p in retire_photo_ids or []],
    )
    session.add(change)
    session.flush()
    record(
        session,
        actor=actor,
        action="photo_change.proposed",
        object_type="photo_change",
        object_id=change.id,
        region_code=beneficiary.village_code,
        reason=reason,
        details={"beneficiary_id": str(beneficiary.id), "kind": kind.value, "retire": change.retire_photo_ids},
    )
    return change


def pending_of(ctx: Ctx, *, beneficiary_id: uuid.UUID) -> PhotoChange | None:
    return ctx.session.scalar(
        select(PhotoChange).where(
            PhotoChange.beneficiary_id == beneficiary_id, PhotoChange.status == PhotoChangeStatus.PENDING
        )
    )


def pending_changes(ctx: Ctx, *, actor: Actor, page: PageRequest) -> tuple[list[PhotoChange], int | None]:
    """The proposals waiting for a decision about people in the actor's region, oldest first, and how many."""
    query = (
        select(PhotoChange)
        .join(Beneficiary, Beneficiary.id == PhotoChange.beneficiary_id)
        .where(PhotoChange.status == PhotoChangeStatus.PENDING, in_scope(Beneficiary.village_code, actor.region_code))
    )
    return fetch_page(ctx.session, query, order_by=(PhotoChange.created_at, PhotoChange.id), page=page)


def changes_of(ctx: Ctx, *, beneficiary_id: uuid.UUID) -> list[PhotoChange]:
    return list(
        ctx.session.scalars(
            select(PhotoChange)
            .where(PhotoChange.beneficiary_id == beneficiary_id)
            .order_by(PhotoChange.created_at.desc(), PhotoChange.id)
        )
    )


def get_change(ctx: Ctx, *, beneficiary: Beneficiary, change_id: uuid.UUID) -> PhotoChange:
    change = ctx.session.scalar(
        select(PhotoChange).where(PhotoChange.id == change_id, PhotoChange.beneficiary_id == beneficiary.id)
    )
    if change is None:
        raise NotFound("photo change not found", {"change_id": ["not_found"]})
    return change


def _review(actor: Actor, change: PhotoChange, reason: str | None, *, approving: bool) -> str | None:
    if change.status != PhotoChangeStatus.PENDING:
        raise Conflict("this change was already decided", {"_": ["already_decided"]})
    if approving and actor.role not in APPROVER_ROLES:
        raise Forbidden("a supervisor or admin approves photo changes", {"authorization": ["role_not_allowed"]})
    if approving and change.proposed_by == uuid.UUID(actor.id):
        raise Forbidden("someone other than the proposer must approve this", {"_": ["four_eyes_required"]})
    reason = (reason or "").strip() or None
    if not approving and reason is None:
        raise DomainError.field("reason", "required", "say why the change is rejected")
    change.reviewed_by = uuid.UUID(actor.id)
    change.reviewed_at = utcnow()
    change.review_reason = reason
    return reason


def approve(
    ctx: Ctx, *, actor: Actor, beneficiary: Beneficiary, change: PhotoChange, reason: str | None
) -> list[uuid.UUID]:
    """A second person approves: old photos retire as proposed, new ones go to encoding.

    Returns the ids of the photos to encode; the caller's unit commits, then it enqueues them.
    """
    session = ctx.session
    reason = _review(actor, change, reason, approving=True)
    change.status = PhotoChangeStatus.APPROVED
    if change.kind == PhotoChangeKind.REPLACE:
        retire_photos(
            ctx,
            actor=actor,
            beneficiary=beneficiary,
            reason="replaced by approved photos",
            exclude_change=change.id,
        )
    elif change.kind == PhotoChangeKind.RETIRE:
        retire_photos(
            ctx,
            actor=actor,
            beneficiary=beneficiary,
            reason="retirement approved",
            photo_ids=[uuid.UUID(p) for p in change.retire_photo_ids],
        )
    released = list(
        session.scalars(
            update(EnrolmentPhoto)
            .where(EnrolmentPhoto.change_id == change.id, EnrolmentPhoto.state == PhotoState.PROPOSED)
            .values(state=PhotoState.RECEIVED)
            .returning(EnrolmentPhoto.id)
        )
    )
    record(
        session,
        actor=actor,
        action="photo_change.approved",
        object_type="photo_change",
        object_id=change.id,
        region_code=beneficiary.village_code,
        reason=reason,
        details={"beneficiary_id": str(beneficiary.id), "proposed_by": str(change.proposed_by)},
    )
    return released


def approve_and_release(
    ctx: Ctx,
    *,
    actor: Actor,
    beneficiary_id: uuid.UUID,
    change_id: uuid.UUID,
    reason: str | None,
    ring: Callable[[str, str], object],
) -> None:
    """`approve` in a unit of work of its own, then `ring(ENCODE_TASK, photo_id)` for each photo it released, once
    committed (the worker must find them). Call it outside a unit of work."""
    with unit_of_work(ctx.session):
        beneficiary = get_beneficiary(ctx, actor=actor, beneficiary_id=beneficiary_id)
        change = get_change(ctx, beneficiary=beneficiary, change_id=change_id)
        released = approve(ctx, actor=actor, beneficiary=beneficiary, change=change, reason=reason)
    for photo_id in released:
        ring(ENCODE_TASK, str(photo_id))


def reject(ctx: Ctx, *, actor: Actor, beneficiary: Beneficiary, change: PhotoChange, reason: str | None) -> None:
    """Turn a proposal down (the proposer may withdraw their own); its photos never count."""
    session = ctx.session
    reason = _review(actor, change, reason, approving=False)
    change.status = PhotoChangeStatus.REJECTED
    session.execute(
        update(EnrolmentPhoto)
        .where(EnrolmentPhoto.change_id == change.id, EnrolmentPhoto.state == PhotoState.PROPOSED)
        .values(state=PhotoState.RETIRED)
    )
    record(
        session,
        actor=actor,
        action="photo_change.rejected",
        object_type="photo_change",
        object_id=change.id,
        region_code=beneficiary.village_code,
        reason=reason,
        details={"beneficiary_id": str(beneficiary.id)},
    )
