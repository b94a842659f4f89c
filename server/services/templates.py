"""The face gallery: which templates a match counts, a check-in's cohort, templates that age, calibration data.

Every read of templates goes through here. The duplicate search reads a county's gallery held in
memory (`live_gallery`): one float32 matrix per county and process, loaded once and then brought
up to date from a change log before every search. Whatever makes a template start or stop counting
must log it in the same transaction (`note_changes`).
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Connection, LargeBinary, delete, func, insert, or_, select, type_coerce, update
from sqlalchemy.orm import Session

from server.config import Settings
from server.crypto import DataCipher
from server.models import (
    Beneficiary,
    Checkin,
    EnrolmentPhoto,
    FaceGalleryChange,
    FaceGalleryVersion,
    FaceTemplate,
    PhotoState,
    utcnow,
)
from server.services.audit import Actor, record
from server.sqlfuncs import insert_ignoring_conflicts

# numpy and the face library load in the functions that read or write vectors: the API imports this
# module (enrolment and check-ins use it) and must start without them.
if TYPE_CHECKING:
    import numpy as np

    from worker.face.gallery import FaceGallery

TEMPLATE_MODEL = "dlib_resnet_v1"


@dataclass(frozen=True)
class Gallery:
    """Templates as rows of one matrix, with the template id and owner of each row."""

    ids: list[uuid.UUID]
    owners: list[uuid.UUID]
    vectors: np.ndarray  # (rows, 128)

    def joined(self, other: Gallery) -> Gallery:
        """This gallery's rows followed by other's."""
        import numpy as np

        return Gallery(self.ids + other.ids, self.owners + other.owners, np.concatenate([self.vectors, other.vectors]))

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
    import numpy as np

    from worker.face.encode import template_from_bytes

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
    return _region_gallery(session, FaceTemplate.county_code == county, exclude=[exclude], people=people)


def cohort_gallery(session: Session, *, county: str, exclude: uuid.UUID, people: int, minimum: int) -> Gallery:
    """The cohort a check-in's match is T-normed against: other people of the county, and while they are
    fewer than `minimum`, people of the nearest wider region too (prefecture, province, every county).

    A county that has just started enrolling would otherwise be decided on the raw distance, which
    verifies fewer genuine check-ins and more strangers (`bench liveness`: 68% of genuine sessions
    instead of 86%, and 1 of 174 live impostors). Strangers from the next county are as good a
    cohort as strangers from this one; the county's own people always stay in it, because a
    relative or neighbour enrolled here is the likeliest impostor.
    """
    gallery = county_gallery(session, county=county, exclude=exclude, people=people)
    known = {exclude, *gallery.owners}
    for prefix in (county[:4], county[:2], ""):
        if len(known) - 1 >= minimum:
            break
        # County codes are six digits: a prefix is a range, which the plain index on county_code serves.
        region = FaceTemplate.county_code.between(prefix.ljust(6, "0"), prefix.ljust(6, "9"))
        # Only people not yet in the cohort: the nearer region's stay, its rows are not read again.
        wider = _region_gallery(session, region, exclude=known, people=people - len(known) + 1)
        gallery = gallery.joined(wider)
        known.update(wider.owners)
    return gallery


def _region_gallery(
    session: Session, region: ColumnElement[bool], *, exclude: Iterable[uuid.UUID], people: int | None
) -> Gallery:
    owners = (
        select(FaceTemplate.beneficiary_id)
        .outerjoin(EnrolmentPhoto, EnrolmentPhoto.id == FaceTemplate.photo_id)
        .where(region, FaceTemplate.beneficiary_id.not_in(list(exclude)), _active())
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
    from worker.face.encode import template_to_bytes

    bound = settings.face.checkin_templates
    if bound <= 0:
        return None
    beneficiary = session.get(Beneficiary, checkin.beneficiary_id)
    template = FaceTemplate(
        id=uuid.uuid4(),
        checkin_id=checkin.id,
        beneficiary_id=checkin.beneficiary_id,
        county_code=beneficiary.village_code[:6],
        model=TEMPLATE_MODEL,
        vector=template_to_bytes(vector),
        created_at=utcnow(),
    )
    session.add(template)
    session.flush()
    kept = session.execute(
        select(FaceTemplate.id, FaceTemplate.county_code)
        .where(FaceTemplate.beneficiary_id == checkin.beneficiary_id, FaceTemplate.checkin_id.is_not(None))
        .order_by(FaceTemplate.created_at.desc(), FaceTemplate.id)
    ).all()
    dropped = [template_id for template_id, _ in kept[bound:]]
    if dropped:
        session.execute(delete(FaceTemplate).where(FaceTemplate.id.in_(dropped)))
    removed = [(county, template_id) for template_id, county in kept[bound:]]
    note_changes(session, added=[(template.county_code, template.id)], removed=removed)
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
    dropped = session.execute(
        delete(FaceTemplate)
        .where(FaceTemplate.beneficiary_id == beneficiary_id, FaceTemplate.checkin_id.is_not(None))
        .returning(FaceTemplate.county_code, FaceTemplate.id)
    ).all()
    note_changes(session, removed=[tuple(row) for row in dropped])
    return len(dropped)


def retire_templates_of(session: Session, *, photo_ids: Iterable[uuid.UUID]) -> None:
    """Log that the templates of these photos stop counting (call it where the photos are retired)."""
    photo_ids = list(photo_ids)
    if photo_ids:
        rows = session.execute(
            select(FaceTemplate.county_code, FaceTemplate.id).where(FaceTemplate.photo_id.in_(photo_ids))
        ).all()
        note_changes(session, removed=[tuple(row) for row in rows])


def calibration_gallery(
    session: Session, *, county: str | None = None
) -> list[tuple[list[np.ndarray], list[np.ndarray]]]:
    """Per beneficiary: (enrolment templates, templates kept from verified check-ins), decrypted in process."""
    from worker.face.encode import template_from_bytes

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


# The change log and the galleries held in memory.


def note_changes(
    session: Session,
    *,
    added: Iterable[tuple[str, uuid.UUID]] = (),
    removed: Iterable[tuple[str, uuid.UUID]] = (),
) -> None:
    """Log (county, template id) pairs that became active or stopped counting, in the changing transaction.

    Bumps each county's gallery version under its row lock, held until commit: changes, and the
    duplicate searches that follow them, queue per county, and versions follow commit order.
    """
    changes: defaultdict[str, list[tuple[uuid.UUID, bool]]] = defaultdict(list)
    for county, template_id in added:
        changes[county].append((template_id, True))
    for county, template_id in removed:
        changes[county].append((template_id, False))
    # One order for every transaction: two that change the same counties cannot deadlock.
    for county in sorted(changes):
        version = _bump(session, county)
        session.execute(
            insert(FaceGalleryChange),
            [
                {"county_code": county, "version": version, "template_id": template_id, "added": added}
                for template_id, added in changes[county]
            ],
        )


def _bump(session: Session, county: str) -> int:
    bump = (
        update(FaceGalleryVersion)
        .where(FaceGalleryVersion.county_code == county)
        .values(version=FaceGalleryVersion.version + 1)
        .returning(FaceGalleryVersion.version)
    )
    version = session.scalar(bump)
    if version is None:
        # The county's first change: a concurrent first change waits on this insert, then bumps.
        session.execute(
            insert_ignoring_conflicts(session, FaceGalleryVersion)
            .values(county_code=county, version=0, epoch=uuid.uuid4())
            .on_conflict_do_nothing(index_elements=["county_code"])
        )
        version = session.scalar(bump)
    return version


@dataclass
class _Held:
    gallery: FaceGallery
    epoch: uuid.UUID | None
    version: int


_held: dict[tuple[str, str], _Held] = {}
_holding = threading.Lock()
VECTOR_CONTEXT = FaceTemplate.__table__.c.vector.type.context
LOAD_BATCH = 50_000


def live_gallery(session: Session, cipher: DataCipher, *, county: str) -> FaceGallery:
    """The county's active templates in memory, with every change committed before this call.

    Read on a connection of its own, so it holds committed changes only: this transaction's own
    (its person's new template) reach the gallery once they commit. Called after `note_changes` in
    the same transaction, it sees every change committed before that one took the county's lock.
    A county without a version row has had no change logged (the migration gave every county with
    templates one): it is loaded on every call. One whose row is new, gone or recreated since the
    load (a restored or emptied database) is loaded again.
    """
    engine = session.get_bind()
    key = (engine.url.render_as_string(hide_password=True), county)
    with _holding, engine.connect() as connection:
        state = connection.execute(
            select(FaceGalleryVersion.version, FaceGalleryVersion.epoch).where(FaceGalleryVersion.county_code == county)
        ).one_or_none()
        version, epoch = state if state is not None else (0, None)
        held = _held.get(key)
        if held is None or epoch is None or held.epoch != epoch or version < held.version:
            # Changes committed while it loads are in the next catch-up too: replaying them is harmless.
            held = _held[key] = _Held(_load(connection, cipher, county), epoch, version)
        else:
            _catch_up(connection, cipher, county, held, version)
        return held.gallery


def forget_galleries() -> None:
    """Drop every gallery held by this process (the next search loads its county again)."""
    with _holding:
        _held.clear()


def _vectors(cipher: DataCipher, blobs: list[bytes]) -> np.ndarray:
    import numpy as np

    from worker.face.encode import TEMPLATE_BYTES

    plain = b"".join(cipher.decrypt(blob, context=VECTOR_CONTEXT) for blob in blobs)
    return np.frombuffer(plain, dtype="<f4").reshape(len(blobs), TEMPLATE_BYTES // 4)


def _load(connection: Connection, cipher: DataCipher, county: str) -> FaceGallery:
    """Every active template of the county, decrypted in batches with the one cipher."""
    from worker.face.gallery import FaceGallery

    active = (
        select(FaceTemplate.id, FaceTemplate.beneficiary_id, type_coerce(FaceTemplate.vector, LargeBinary))
        .outerjoin(EnrolmentPhoto, EnrolmentPhoto.id == FaceTemplate.photo_id)
        .where(FaceTemplate.county_code == county, _active())
    )
    expected = connection.scalar(select(func.count()).select_from(active.subquery()))
    result = connection.execution_options(stream_results=True, max_row_buffer=LOAD_BATCH).execute(active)
    batches = (
        (ids, owners, _vectors(cipher, list(blobs)))
        for ids, owners, blobs in (zip(*batch, strict=True) for batch in result.partitions(LOAD_BATCH))
    )
    return FaceGallery.build(batches, capacity=expected + expected // 20)


def _catch_up(connection: Connection, cipher: DataCipher, county: str, held: _Held, version: int) -> None:
    """Apply the changes after the held version up to `version`, in order.

    Replaying a change the load already saw is harmless (a template's vector never changes), so a
    load that raced a commit is corrected here."""
    if version <= held.version:
        return
    rows = connection.execute(
        select(
            FaceGalleryChange.template_id,
            FaceGalleryChange.added,
            FaceTemplate.beneficiary_id,
            type_coerce(FaceTemplate.vector, LargeBinary),
        )
        .outerjoin(FaceTemplate, FaceTemplate.id == FaceGalleryChange.template_id)
        .where(
            FaceGalleryChange.county_code == county,
            FaceGalleryChange.version > held.version,
            FaceGalleryChange.version <= version,
        )
        .order_by(FaceGalleryChange.version, FaceGalleryChange.id)
    ).all()
    for template_id, added, owner, blob in rows:
        # An added template whose row is gone was deleted later: its removal follows in the log.
        if added and blob is not None:
            held.gallery.put(template_id, owner, _vectors(cipher, [blob])[0])
        else:
            held.gallery.remove(template_id)
    held.version = version
