"""The face gallery: which templates a match counts, a check-in's cohort, templates that age, calibration data.

Every read of templates goes through here, so the gallery can later be held in memory as one
float32 matrix without touching the rules that use it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from server.config import Settings
from server.models import Beneficiary, Checkin, EnrolmentPhoto, FaceTemplate, PhotoState, utcnow
from server.services.audit import Actor, record
from worker.face.encode import template_from_bytes, template_to_bytes

TEMPLATE_MODEL = "dlib_resnet_v1"


@dataclass(frozen=True)
class Gallery:
    """Templates as rows of one matrix, with the template id and owner of each row."""

    ids: list[uuid.UUID]
    owners: list[uuid.UUID]
    vectors: np.ndarray  # (rows, 128)

    def by_owner(self) -> list[np.ndarray]:
        """One (templates, 128) array per owner."""
        rows: defaultdict[uuid.UUID, list[int]] = defaultdict(list)
        for row, owner in enumerate(self.owners):
            rows[owner].append(row)
        return [self.vectors[indices] for indices in rows.values()]


def _active():
    # An enrolment template counts while its photo is encoded (not retired); a check-in's always.
    return or_(FaceTemplate.checkin_id.is_not(None), EnrolmentPhoto.state == PhotoState.ENCODED)


def _gallery(rows) -> Gallery:
    rows = list(rows)
    if not rows:
        return Gallery([], [], np.empty((0, 128)))
    return Gallery(
        [row.id for row in rows],
        [row.beneficiary_id for row in rows],
        np.stack([template_from_bytes(row.vector) for row in rows]),
    )


def matching_templates(session: Session, beneficiary_id: uuid.UUID) -> Gallery:
    """The person's templates a check-in is matched against: enrolment photos and recent check-ins."""
    return _gallery(
        session.execute(
            select(FaceTemplate.id, FaceTemplate.beneficiary_id, FaceTemplate.vector)
            .outerjoin(EnrolmentPhoto, EnrolmentPhoto.id == FaceTemplate.photo_id)
            .where(FaceTemplate.beneficiary_id == beneficiary_id, _active())
            .order_by(FaceTemplate.created_at)
        )
    )


def enrolment_templates(session: Session, beneficiary_id: uuid.UUID) -> Gallery:
    """The person's templates from encoded enrolment photos (what a duplicate search compares)."""
    return _gallery(
        session.execute(
            select(FaceTemplate.id, FaceTemplate.beneficiary_id, FaceTemplate.vector)
            .join(EnrolmentPhoto, EnrolmentPhoto.id == FaceTemplate.photo_id)
            .where(FaceTemplate.beneficiary_id == beneficiary_id, EnrolmentPhoto.state == PhotoState.ENCODED)
        )
    )


def county_gallery(session: Session, *, county: str, exclude: uuid.UUID, people: int | None = None) -> Gallery:
    """Other people's active templates in the county, for a cohort (at most `people` of them) or a duplicate search."""
    owners = (
        select(FaceTemplate.beneficiary_id)
        .outerjoin(EnrolmentPhoto, EnrolmentPhoto.id == FaceTemplate.photo_id)
        .where(FaceTemplate.county_code == county, FaceTemplate.beneficiary_id != exclude, _active())
        .distinct()
        .order_by(FaceTemplate.beneficiary_id)
    )
    if people is not None:
        owners = owners.limit(people)
    query = (
        select(FaceTemplate.id, FaceTemplate.beneficiary_id, FaceTemplate.vector)
        .outerjoin(EnrolmentPhoto, EnrolmentPhoto.id == FaceTemplate.photo_id)
        .where(FaceTemplate.beneficiary_id.in_(owners.scalar_subquery()), _active())
    )
    return _gallery(session.execute(query))


def add_checkin_template(
    session: Session, settings: Settings, *, checkin: Checkin, vector: np.ndarray
) -> FaceTemplate | None:
    """Keep a verified check-in's best frame as a template; drop the oldest beyond the bound. Flushes.

    Only check-in templates are ever dropped: the enrolment photos stay whatever the bound.
    """
    bound = settings.face.checkin_templates
    if bound <= 0:
        return None
    beneficiary = session.get(Beneficiary, checkin.beneficiary_id)
    template = FaceTemplate(
        checkin_id=checkin.id,
        beneficiary_id=checkin.beneficiary_id,
        county_code=beneficiary.village_code[:6],
        model=TEMPLATE_MODEL,
        vector=template_to_bytes(vector),
        created_at=utcnow(),
    )
    session.add(template)
    session.flush()
    kept = session.scalars(
        select(FaceTemplate.id)
        .where(FaceTemplate.beneficiary_id == checkin.beneficiary_id, FaceTemplate.checkin_id.is_not(None))
        .order_by(FaceTemplate.created_at.desc(), FaceTemplate.id)
    ).all()
    dropped = list(kept[bound:])
    if dropped:
        session.execute(delete(FaceTemplate).where(FaceTemplate.id.in_(dropped)))
    record(
        session,
        actor=Actor.system(),
        action="face_template.added_from_checkin",
        object_type="beneficiary",
        object_id=checkin.beneficiary_id,
        region_code=checkin.region_code,
        details={
            "checkin_id": str(checkin.id),
            "template_id": str(template.id),
            "dropped_template_ids": [str(t) for t in dropped],
        },
    )
    return template


def drop_checkin_templates(session: Session, *, beneficiary_id: uuid.UUID) -> int:
    """Forget the check-in templates of a person whose enrolment is replaced: they matched the old one."""
    return session.execute(
        delete(FaceTemplate).where(FaceTemplate.beneficiary_id == beneficiary_id, FaceTemplate.checkin_id.is_not(None))
    ).rowcount


def calibration_gallery(
    session: Session, *, county: str | None = None
) -> list[tuple[list[np.ndarray], list[np.ndarray]]]:
    """Per beneficiary: (enrolment templates, templates kept from verified check-ins), decrypted in process."""
    query = (
        select(FaceTemplate.beneficiary_id, FaceTemplate.checkin_id, FaceTemplate.vector)
        .outerjoin(EnrolmentPhoto, EnrolmentPhoto.id == FaceTemplate.photo_id)
        .where(_active())
        .order_by(FaceTemplate.beneficiary_id)
    )
    if county is not None:
        query = query.where(FaceTemplate.county_code == county)
    people: defaultdict[uuid.UUID, tuple[list[np.ndarray], list[np.ndarray]]] = defaultdict(lambda: ([], []))
    for owner, checkin_id, blob in session.execute(query):
        people[owner][1 if checkin_id is not None else 0].append(template_from_bytes(blob))
    return list(people.values())
