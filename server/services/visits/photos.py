"""Visit photos: checked, encrypted, stored once; each view audited."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.context import Ctx
from server.db import savepoint
from server.models import Visit, VisitPhoto, utcnow
from server.services import biometrics
from server.services.audit import Actor, record
from server.services.errors import DomainError, Forbidden, NotFound
from server.services.visits.reads import photos_of


def add_photos(ctx: Ctx, *, actor: Actor, visit: Visit, photos: list[bytes]) -> list[VisitPhoto]:
    """Check, encrypt and store a visit's photos; all or nothing, and a photo sent again is stored once."""
    # Pillow and numpy load with the first photo, not with the API.
    from worker.face.image import ImageRejected, content_type, decode_image

    if visit.field_worker_id != uuid.UUID(actor.id):
        raise Forbidden("only the worker who recorded a visit may add its photos", {"_": ["not_your_visit"]})
    errors: dict[str, list[str]] = {}
    checked = []
    for position, data in enumerate(photos):
        try:
            rgb = decode_image(
                data, max_bytes=ctx.settings.uploads.max_bytes, max_pixels=ctx.settings.uploads.max_pixels
            )
        except ImageRejected as exc:
            errors[f"photos.{position}"] = [exc.code]
            continue
        checked.append((data, hashlib.sha256(data).hexdigest(), rgb.shape[1], rgb.shape[0]))
    if errors:
        raise DomainError("one or more photos cannot be used", errors)
    known = set(ctx.session.scalars(select(VisitPhoto.sha256).where(VisitPhoto.visit_id == visit.id)))
    new = {sha: (data, width, height) for data, sha, width, height in checked if sha not in known}
    if len(known) + len(new) > ctx.settings.visits.max_photos:
        raise DomainError.field("photos", "too_many_photos", f"at most {ctx.settings.visits.max_photos} photos a visit")
    stored: list[str] = []
    try:
        with savepoint(ctx.session):
            for sha, (data, width, height) in new.items():
                photo = VisitPhoto(
                    id=uuid.uuid4(),
                    visit_id=visit.id,
                    sha256=sha,
                    content_type=content_type(data),
                    width=width,
                    height=height,
                    created_at=utcnow(),
                )
                photo.object_key = f"visits/{visit.id}/{photo.id}"
                biometrics.put(ctx, key=photo.object_key, data=data)
                stored.append(photo.object_key)
                ctx.session.add(photo)
            if new:
                record(
                    ctx.session,
                    actor=actor,
                    action="visit.photos_added",
                    object_type="visit",
                    object_id=visit.id,
                    region_code=visit.region_code,
                    details={"photos": len(new)},
                )
    except IntegrityError:
        # The same photo arrived twice at once: the other request stored it.
        _discard(ctx, stored)
    except BaseException:
        _discard(ctx, stored)
        raise
    return photos_of(ctx, visit_ids=[visit.id])[visit.id]


def _discard(ctx: Ctx, keys: list[str]) -> None:
    for key in keys:
        biometrics.discard(ctx, key=key)


def read_photo(ctx: Ctx, *, actor: Actor, visit: Visit, photo_id: uuid.UUID, reason: str) -> tuple[bytes, str]:
    """A visit photo for a person to look at; the view and its reason go to the audit log."""
    photo = ctx.session.scalar(select(VisitPhoto).where(VisitPhoto.id == photo_id, VisitPhoto.visit_id == visit.id))
    if photo is None:
        raise NotFound("photo not found", {"photo_id": ["not_found"]})
    data = biometrics.read_for_person(
        ctx,
        actor=actor,
        key=photo.object_key,
        object_type="visit_photo",
        object_id=str(photo.id),
        region_code=visit.region_code,
        reason=reason,
    )
    return data, photo.content_type
