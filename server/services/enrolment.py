"""Face enrolment: checked photos in, encrypted objects and face templates out, duplicates to review."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, text, update
from sqlalchemy.orm import Session

from server.config import Settings
from server.context import Ctx
from server.models import (
    Beneficiary,
    CaseKind,
    EnrolmentPhoto,
    FaceTemplate,
    PhotoChange,
    PhotoState,
    utcnow,
)
from server.services import biometrics, leases
from server.services import templates as face_templates
from server.services.audit import Actor, record
from server.services.cases import open_case
from server.services.errors import DomainError, NotFound
from storage import StorageError

# The face library (numpy, Pillow) loads in the functions that decode or encode a photo: the API and the
# CLI import this module to list and record, and must start without it.
if TYPE_CHECKING:
    import numpy as np

    from worker.face.matching import Candidate

ACTIVE_STATES = (PhotoState.PROPOSED, PhotoState.RECEIVED, PhotoState.PROCESSING, PhotoState.ENCODED)
MAX_ENCODE_ATTEMPTS = 5
ENCODE_TASK = "fieldcheck.encode_enrolment_photo"


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class _CheckedPhoto:
    upload: Upload
    content_type: str
    width: int
    height: int
    quality: dict


def _check(upload: Upload, settings: Settings) -> _CheckedPhoto | list[str]:
    """Decode and quality-check one upload; the reasons it fails, or the facts to store."""
    from worker.face.image import ImageRejected, content_type, decode_image
    from worker.face.quality import assess_enrolment_photo

    try:
        rgb = decode_image(upload.data, max_bytes=settings.uploads.max_bytes, max_pixels=settings.uploads.max_pixels)
    except ImageRejected as exc:
        return [exc.code]
    report = assess_enrolment_photo(rgb, settings.quality)
    if not report.ok:
        return list(report.reasons)
    face = report.face
    quality = {
        "metrics": report.metrics,
        "face": {"top": face.top, "right": face.right, "bottom": face.bottom, "left": face.left},
    }
    return _CheckedPhoto(upload, content_type(upload.data), rgb.shape[1], rgb.shape[0], quality)


def active_photo_count(ctx: Ctx, *, beneficiary_id: uuid.UUID) -> int:
    return ctx.session.scalar(
        select(func.count())
        .select_from(EnrolmentPhoto)
        .where(EnrolmentPhoto.beneficiary_id == beneficiary_id, EnrolmentPhoto.state.in_(ACTIVE_STATES))
    )


def add_photos(
    ctx: Ctx,
    *,
    actor: Actor,
    beneficiary: Beneficiary,
    uploads: list[Upload],
    replace: bool = False,
    change: PhotoChange | None = None,
) -> list[EnrolmentPhoto]:
    """Check, encrypt, store and record enrolment photos; all or nothing (objects of a failed upload are removed).

    With a pending `change` the photos are stored as `proposed` and nothing is retired yet: the
    change's approval does that (services/photo_changes.py).
    """
    limit = ctx.settings.uploads.max_photos_per_beneficiary
    if not 1 <= len(uploads) <= limit:
        raise DomainError.field("photos", "wrong_count", f"send 1 to {limit} photos")
    kept = 0 if replace else active_photo_count(ctx, beneficiary_id=beneficiary.id)
    if kept + len(uploads) > limit:
        raise DomainError.field(
            "photos", "too_many_photos", f"a beneficiary has at most {limit} photos; retire some or replace them"
        )
    checked = [_check(upload, ctx.settings) for upload in uploads]
    errors = {f"photos.{i}": result for i, result in enumerate(checked) if isinstance(result, list)}
    if errors:
        raise DomainError("one or more photos cannot be used for enrolment", errors)

    photos: list[EnrolmentPhoto] = []
    stored_keys: list[str] = []
    try:
        if replace and change is None:
            retire_photos(ctx, actor=actor, beneficiary=beneficiary, reason="replaced by new enrolment photos")
        for item in checked:
            photo_id = uuid.uuid4()
            key = f"enrolment/{beneficiary.id}/{photo_id}"
            biometrics.put(ctx, key=key, data=item.upload.data)
            stored_keys.append(key)
            photo = EnrolmentPhoto(
                id=photo_id,
                beneficiary_id=beneficiary.id,
                uploaded_by=uuid.UUID(actor.id),
                object_key=key,
                sha256=hashlib.sha256(item.upload.data).hexdigest(),
                content_type=item.content_type,
                width=item.width,
                height=item.height,
                quality=item.quality,
                state=PhotoState.RECEIVED if change is None else PhotoState.PROPOSED,
                change_id=change and change.id,
            )
            ctx.session.add(photo)
            photos.append(photo)
            record(
                ctx.session,
                actor=actor,
                action="enrolment_photo.uploaded",
                object_type="enrolment_photo",
                object_id=photo_id,
                region_code=beneficiary.village_code,
                details={"beneficiary_id": str(beneficiary.id), "change_id": change and str(change.id)},
            )
        # Flushed here, so a failed insert removes the objects it would have pointed to.
        ctx.session.flush()
    except BaseException:
        for key in stored_keys:
            biometrics.discard(ctx, key=key)
        raise
    return photos


def retire_photos(
    ctx: Ctx,
    *,
    actor: Actor,
    beneficiary: Beneficiary,
    reason: str,
    photo_ids: list[uuid.UUID] | None = None,
    exclude_change: uuid.UUID | None = None,
) -> int:
    """Take photos (all active ones, or the given ones) out of matching; their templates stop counting.

    Photos still waiting in a proposal are left to its approval or rejection, as are those of `exclude_change`.
    """
    query = update(EnrolmentPhoto).where(
        EnrolmentPhoto.beneficiary_id == beneficiary.id,
        EnrolmentPhoto.state.not_in((PhotoState.RETIRED, PhotoState.PROPOSED)),
    )
    if photo_ids is not None:
        query = query.where(EnrolmentPhoto.id.in_(photo_ids))
    if exclude_change is not None:
        query = query.where((EnrolmentPhoto.change_id != exclude_change) | EnrolmentPhoto.change_id.is_(None))
    retired_ids = ctx.session.scalars(
        query.values(state=PhotoState.RETIRED, lease_expires_at=None).returning(EnrolmentPhoto.id)
    ).all()
    retired = len(retired_ids)
    face_templates.retire_templates_of(ctx.session, photo_ids=retired_ids)
    # A whole new enrolment (stale or wrong photos) also forgets the check-in templates matched to the old one.
    forgotten = 0
    if photo_ids is None:
        forgotten = face_templates.drop_checkin_templates(ctx.session, beneficiary_id=beneficiary.id)
    if retired:
        record(
            ctx.session,
            actor=actor,
            action="enrolment_photo.retired",
            object_type="beneficiary",
            object_id=beneficiary.id,
            region_code=beneficiary.village_code,
            reason=reason,
            details={
                "count": retired,
                "photo_ids": [str(p) for p in photo_ids or []],
                "checkin_templates_dropped": forgotten,
            },
        )
    return retired


def enrolment_state(photos: list[EnrolmentPhoto]) -> str:
    """not_enrolled, processing, enrolled or failed, from the photos' states."""
    states = {photo.state for photo in photos if photo.state != PhotoState.RETIRED}
    if PhotoState.ENCODED in states:
        return "enrolled"
    if states & {PhotoState.RECEIVED, PhotoState.PROCESSING}:
        return "processing"
    if PhotoState.FAILED in states:
        return "failed"
    return "not_enrolled"


ENROLMENT_STATES = ("not_enrolled", "processing", "enrolled", "failed")


def in_enrolment_state(state: str, beneficiary_id: ColumnElement[uuid.UUID]) -> ColumnElement[bool]:
    """SQL: the person's enrolment is in `state`, decided as `enrolment_state` decides it from the photos."""

    def having(*states: PhotoState) -> ColumnElement[bool]:
        return exists().where(EnrolmentPhoto.beneficiary_id == beneficiary_id, EnrolmentPhoto.state.in_(states))

    enrolled = having(PhotoState.ENCODED)
    processing = having(PhotoState.RECEIVED, PhotoState.PROCESSING)
    failed = having(PhotoState.FAILED)
    return {
        "enrolled": enrolled,
        "processing": and_(~enrolled, processing),
        "failed": and_(~enrolled, ~processing, failed),
        "not_enrolled": ~or_(enrolled, processing, failed),
    }[state]


def photos_of(ctx: Ctx, *, beneficiary_id: uuid.UUID) -> list[EnrolmentPhoto]:
    return list(
        ctx.session.scalars(
            select(EnrolmentPhoto)
            .where(EnrolmentPhoto.beneficiary_id == beneficiary_id)
            .order_by(EnrolmentPhoto.created_at)
        )
    )


def read_photo(
    ctx: Ctx, *, actor: Actor, beneficiary: Beneficiary, photo_id: uuid.UUID, reason: str
) -> tuple[bytes, str]:
    """An enrolment photo's bytes and content type for a person to look at; the view is audited (committed first)."""
    photo = ctx.session.scalar(
        select(EnrolmentPhoto).where(EnrolmentPhoto.id == photo_id, EnrolmentPhoto.beneficiary_id == beneficiary.id)
    )
    if photo is None:
        raise NotFound("photo not found", {"photo_id": ["not_found"]})
    data = biometrics.read_for_person(
        ctx,
        actor=actor,
        key=photo.object_key,
        object_type="enrolment_photo",
        object_id=str(photo.id),
        region_code=beneficiary.village_code,
        reason=reason,
    )
    return data, photo.content_type


def encode_photo(ctx: Ctx, *, photo_id: uuid.UUID, reclaim: int | None = None) -> str:
    """Turn a claimed photo into a template and search its county for the same face; the claim commits at once.

    Idempotent: a photo already encoded, retired or leased to another worker is left alone.
    Returns what happened, for the task's log line. Storage that cannot be read raises
    `leases.RetryOwnWork`: the task retries with `reclaim` and keeps the photo.
    """
    from worker.face.detect import FaceBox
    from worker.face.encode import encode_enrolment_face, template_to_bytes
    from worker.face.image import ImageRejected, decode_image

    lease = ctx.settings.task_lease_seconds
    attempt = leases.claim(ctx.session, EnrolmentPhoto, photo_id, lease, reclaim=reclaim)
    if attempt is None:
        return "not_claimable"
    photo = ctx.session.get(EnrolmentPhoto, photo_id)
    beneficiary = ctx.session.get(Beneficiary, photo.beneficiary_id)
    if attempt > MAX_ENCODE_ATTEMPTS:
        # Workers kept dying on this photo; stop handing it out and let a person look.
        return _fail(ctx, photo, beneficiary, attempt, "too_many_attempts")
    try:
        data = biometrics.get(ctx, key=photo.object_key)
    except StorageError as exc:
        raise leases.RetryOwnWork(attempt) from exc
    with leases.heartbeat(ctx.session, EnrolmentPhoto, photo_id, attempt, lease):
        try:
            rgb = decode_image(data, max_bytes=len(data), max_pixels=ctx.settings.uploads.max_pixels)
        except ImageRejected as exc:
            rgb, rejected = None, exc.code
        vector = None if rgb is None else encode_enrolment_face(rgb, FaceBox(**photo.quality["face"]))
    if vector is None:
        return _fail(ctx, photo, beneficiary, attempt, rejected)

    _one_photo_of_the_person_at_a_time(ctx.session, beneficiary.id)
    # Only the holder of this attempt's lease may finish; a slower duplicate delivery changes nothing.
    if not leases.finish(ctx.session, EnrolmentPhoto, photo_id, attempt, state=PhotoState.ENCODED):
        return "lease_lost"
    county = beneficiary.village_code[:6]
    template_id = uuid.uuid4()
    ctx.session.add(
        FaceTemplate(
            id=template_id,
            photo_id=photo.id,
            beneficiary_id=beneficiary.id,
            county_code=county,
            model=face_templates.TEMPLATE_MODEL,
            vector=template_to_bytes(vector),
            created_at=utcnow(),
        )
    )
    record(
        ctx.session,
        actor=Actor.system(),
        action="enrolment_photo.encoded",
        object_type="enrolment_photo",
        object_id=photo.id,
        region_code=beneficiary.village_code,
    )
    # Taken before the search: a simultaneous enrolment in the county waits for this one to commit,
    # then its own search sees this template (two people enrolling one face at once meet in a case).
    face_templates.note_changes(ctx.session, added=[(county, template_id)])
    # The last photo of an enrolment to be encoded searches with all of them, so every photo must agree.
    if not _photos_pending(ctx.session, beneficiary.id, besides=photo.id):
        for rank, candidate in enumerate(find_duplicates(ctx, beneficiary=beneficiary), start=1):
            _open_duplicate_case(ctx, beneficiary, candidate, rank)
    if photo.change_id is not None:
        _check_against_earlier_templates(ctx, beneficiary, photo, vector)
    return "encoded"


def _check_against_earlier_templates(
    ctx: Ctx, beneficiary: Beneficiary, photo: EnrolmentPhoto, vector: np.ndarray
) -> None:
    """A changed photo whose face is far from every template the person had before opens a case.

    Two people approved the change, but a different face is exactly what a takeover looks like, so a
    third look is asked for. Retired templates count as "before": a replacement retires them first.
    """
    import numpy as np

    from worker.face.encode import template_from_bytes

    earlier = ctx.session.scalars(
        select(FaceTemplate.vector)
        .join(EnrolmentPhoto, EnrolmentPhoto.id == FaceTemplate.photo_id)
        .where(
            FaceTemplate.beneficiary_id == beneficiary.id,
            (EnrolmentPhoto.change_id != photo.change_id) | EnrolmentPhoto.change_id.is_(None),
        )
    ).all()
    if not earlier:
        return
    closest = float(np.min(np.linalg.norm(np.stack([template_from_bytes(b) for b in earlier]) - vector, axis=1)))
    if closest <= ctx.settings.face.review:
        return
    open_case(
        ctx,
        kind=CaseKind.TEMPLATE_CHANGE,
        beneficiary=beneficiary,
        dedupe_key=f"template_change:{photo.change_id}",
        summary="A new enrolment photo shows a face far from the person's earlier photos",
        details={
            "photo_id": str(photo.id),
            "change_id": str(photo.change_id),
            "distance": round(closest, 4),
            "threshold": ctx.settings.face.review,
        },
    )


def _one_photo_of_the_person_at_a_time(session: Session, beneficiary_id: uuid.UUID) -> None:
    """Order two photos of one person finishing at once, so the second sees the first encoded.

    A transaction-scoped advisory lock, taken before this transaction writes anything: unlike a
    row lock on the beneficiary it cannot deadlock with requests that reference or audit the person.
    SQLite has one writer at a time already.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(beneficiary_id.bytes[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _photos_pending(session: Session, beneficiary_id: uuid.UUID, *, besides: uuid.UUID) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(EnrolmentPhoto)
            .where(
                EnrolmentPhoto.beneficiary_id == beneficiary_id,
                EnrolmentPhoto.id != besides,
                EnrolmentPhoto.state.in_((PhotoState.RECEIVED, PhotoState.PROCESSING)),
            )
        )
    )


def _fail(ctx: Ctx, photo: EnrolmentPhoto, beneficiary: Beneficiary, attempt: int, reason: str) -> str:
    if not leases.finish(
        ctx.session, EnrolmentPhoto, photo.id, attempt, state=PhotoState.FAILED, failure_reason=reason
    ):
        return "lease_lost"
    record(
        ctx.session,
        actor=Actor.system(),
        action="enrolment_photo.failed",
        object_type="enrolment_photo",
        object_id=photo.id,
        region_code=beneficiary.village_code,
        reason=reason,
    )
    return "failed"


def find_duplicates(ctx: Ctx, *, beneficiary: Beneficiary) -> list[Candidate]:
    """Other people in the county whom all of this person's enrolment photos resemble, ranked, a few at most."""
    own = face_templates.enrolment_templates(ctx.session, beneficiary.id)
    if not len(own.ids):
        return []
    gallery = face_templates.live_gallery(ctx.session, ctx.cipher, county=beneficiary.village_code[:6])
    face = ctx.settings.face
    return gallery.duplicate_candidates(
        own.vectors,
        exclude=beneficiary.id,
        norm_threshold=face.norm_duplicate,
        raw_threshold=face.duplicate,
        max_candidates=face.max_duplicate_candidates,
        cohort_min=face.cohort_min,
    )


def _open_duplicate_case(ctx: Ctx, beneficiary: Beneficiary, candidate: Candidate, rank: int) -> None:
    pair = sorted([str(beneficiary.id), str(candidate.owner)])
    open_case(
        ctx,
        kind=CaseKind.DUPLICATE_FACE,
        beneficiary=beneficiary,
        dedupe_key=f"duplicate_face:{pair[0]}:{pair[1]}",
        summary="Every enrolment photo matches another beneficiary's face in the same county",
        details={
            "other_beneficiary_id": str(candidate.owner),
            "rank": rank,
            "distance": round(candidate.distance, 4),
            "score": None if candidate.score is None else round(candidate.score, 3),
            "threshold": ctx.settings.face.duplicate,
            "score_threshold": None if candidate.score is None else ctx.settings.face.norm_duplicate,
        },
    )
