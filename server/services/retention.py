"""Retention: biometric objects are removed once their purpose is served (PIPL arts. 19 and 47).

- check-in frames: `checkin_frame_days` after the verdict. Only the verdict, the scores and the face
  template a verified check-in may keep need to last, and the template is a descriptor in
  face_template (derived from the best frame, not the frame itself), so every frame goes;
- visit photos: `visit_photo_days` after they were taken;
- enrolment photos and every face template of a person: `enrolment_photo_days_after_termination`
  after the termination (a restored person is active again, and keeps them).

Nothing is removed while the person has a case that is not finally closed (open, extended, or
suspended and so still open to appeal): the evidence must stay until it closes. Check-ins still in
review have no final verdict, and keep their frames too.

A run is one transaction, the caller's. Rows are locked with SKIP LOCKED, so two runs at once share
the work instead of doing it twice. An object is deleted before its row, and a row is deleted only
once its object is gone: a failed deletion leaves the row for the next run, and a run that dies after
deleting objects leaves rows whose objects are already gone (deleting a missing object succeeds), so
the next run finishes them. One audit entry per run holds the counts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, delete, exists, select
from sqlalchemy.orm import Session

from server.context import Ctx
from server.models import (
    Beneficiary,
    BeneficiaryStatus,
    CaseState,
    Checkin,
    CheckinFrame,
    CheckinState,
    EnrolmentPhoto,
    FaceTemplate,
    ReviewCase,
    Visit,
    VisitPhoto,
)
from server.services import templates
from server.services.audit import Actor, record
from storage import StorageError

log = logging.getLogger(__name__)

# States of a case whose evidence may still be looked at: undecided, or suspended (an appeal reopens it).
OPEN_CASE_STATES = (CaseState.OPEN, CaseState.EXTENDED, CaseState.SUSPENDED)
FINAL_VERDICTS = (CheckinState.VERIFIED, CheckinState.REJECTED)


@dataclass
class PurgeResult:
    checkin_frames: int = 0
    visit_photos: int = 0
    enrolment_photos: int = 0
    face_templates: int = 0
    # Objects the store would not delete this run; their rows wait for the next one.
    failed: int = 0


def _no_open_case(beneficiary_id: ColumnElement) -> ColumnElement[bool]:
    return ~exists().where(ReviewCase.beneficiary_id == beneficiary_id, ReviewCase.state.in_(OPEN_CASE_STATES))


def _delete_objects(ctx: Ctx, rows: Iterable[tuple[object, str]], result: PurgeResult) -> list:
    """Delete each row's object, once where rows share one (a check-in's frames); returns the ids of the rows
    whose object is gone."""
    rows_of: dict[str, list] = {}
    for row_id, key in rows:
        rows_of.setdefault(key, []).append(row_id)
    gone = []
    for key, row_ids in rows_of.items():
        try:
            ctx.store.delete(key)
        except StorageError:
            result.failed += 1
            log.warning("retention: could not delete object %s; its rows stay for the next run", key)
            continue
        gone.extend(row_ids)
    return gone


def _whole_objects(rows: list[tuple[object, str]], batch: int) -> list[tuple[object, str]]:
    """A full batch's rows but those of its last object, whose rows may go on past the batch (a check-in's
    frames share one object): left whole for the next run, not deleted under rows still pointing at it. A
    batch that is all one object is kept: splitting it is the only way on."""
    if len(rows) < batch:
        return rows
    last = rows[-1][1]
    return [row for row in rows if row[1] != last] or rows


def _locked(ctx: Ctx, query: Select, of: type) -> list[tuple[object, str]]:
    """(id, object key) of up to a batch of rows no other run holds, locked until the commit."""
    batch = ctx.settings.retention.batch
    return [tuple(row) for row in ctx.session.execute(query.limit(batch).with_for_update(of=of, skip_locked=True))]


def _delete_templates(session: Session, *conditions: ColumnElement[bool]) -> int:
    """Delete the templates matching conditions, logged as gone so every in-memory gallery forgets them."""
    gone = session.execute(
        delete(FaceTemplate).where(*conditions).returning(FaceTemplate.county_code, FaceTemplate.id)
    ).all()
    templates.note_changes(session, removed=[tuple(row) for row in gone])
    return len(gone)


def purge(ctx: Ctx, *, now: datetime, today: date, actor: Actor | None = None) -> PurgeResult:
    """Remove expired check-in frames, visit photos, and terminated people's enrolment photos and templates."""
    settings = ctx.settings.retention
    session = ctx.session
    result = PurgeResult()

    frames = select(CheckinFrame.id, CheckinFrame.object_key).join(Checkin, Checkin.id == CheckinFrame.checkin_id)
    frames = frames.where(
        Checkin.state.in_(FINAL_VERDICTS),
        Checkin.decided_at < now - timedelta(days=settings.checkin_frame_days),
        _no_open_case(Checkin.beneficiary_id),
    )
    locked = _locked(ctx, frames.order_by(CheckinFrame.id), CheckinFrame)
    gone = _delete_objects(ctx, _whole_objects(locked, settings.batch), result)
    if gone:
        session.execute(delete(CheckinFrame).where(CheckinFrame.id.in_(gone)))
    result.checkin_frames = len(gone)

    # A household visit (no one person named) is kept for its age alone.
    photos = select(VisitPhoto.id, VisitPhoto.object_key).join(Visit, Visit.id == VisitPhoto.visit_id)
    photos = photos.where(
        VisitPhoto.created_at < now - timedelta(days=settings.visit_photo_days),
        Visit.beneficiary_id.is_(None) | _no_open_case(Visit.beneficiary_id),
    )
    gone = _delete_objects(ctx, _locked(ctx, photos.order_by(VisitPhoto.id), VisitPhoto), result)
    if gone:
        session.execute(delete(VisitPhoto).where(VisitPhoto.id.in_(gone)))
    result.visit_photos = len(gone)

    cutoff = today - timedelta(days=settings.enrolment_photo_days_after_termination)
    ended = select(Beneficiary.id).where(
        Beneficiary.status == BeneficiaryStatus.TERMINATED,
        Beneficiary.terminated_on < cutoff,
        _no_open_case(Beneficiary.id),
    )
    enrolment = select(EnrolmentPhoto.id, EnrolmentPhoto.object_key).where(EnrolmentPhoto.beneficiary_id.in_(ended))
    gone = _delete_objects(ctx, _locked(ctx, enrolment.order_by(EnrolmentPhoto.id), EnrolmentPhoto), result)
    if gone:
        # The templates derived from the photos go with them (a template points at its photo).
        result.face_templates += _delete_templates(session, FaceTemplate.photo_id.in_(gone))
        session.execute(delete(EnrolmentPhoto).where(EnrolmentPhoto.id.in_(gone)))
    result.enrolment_photos = len(gone)
    # Templates kept from check-ins have no object: they go once the person's photos are all gone.
    result.face_templates += _delete_templates(
        session,
        FaceTemplate.checkin_id.is_not(None),
        FaceTemplate.beneficiary_id.in_(ended),
        ~exists().where(EnrolmentPhoto.beneficiary_id == FaceTemplate.beneficiary_id),
    )

    record(
        session,
        actor=actor or Actor.system(),
        action="retention.purged",
        object_type="retention",
        object_id=today.isoformat(),
        details={
            **asdict(result),
            "periods_days": {
                "checkin_frame": settings.checkin_frame_days,
                "visit_photo": settings.visit_photo_days,
                "enrolment_photo_after_termination": settings.enrolment_photo_days_after_termination,
            },
        },
    )
    return result
