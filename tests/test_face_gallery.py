"""The face gallery on PostgreSQL: whose templates a cohort and a duplicate search read, a capped cohort, and the
in-memory gallery the duplicate search uses (loaded once, kept current from the change log)."""

import threading
import uuid

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from server import db
from server.context import Ctx
from server.models import Beneficiary, EnrolmentPhoto, FaceTemplate, PhotoState, StaffUser, utcnow
from server.services import templates
from server.services.audit import Actor
from server.services.enrolment import retire_photos
from tests.conftest import COUNTY, beneficiary_body, wait_for
from worker.face.encode import template_to_bytes
from worker.face.gallery import FaceGallery
from worker.face.matching import duplicate_candidates


def _enrol(session, person: uuid.UUID, staff_id: uuid.UUID, vectors, state=PhotoState.ENCODED, county=COUNTY) -> None:
    for vector in vectors:
        photo = EnrolmentPhoto(
            beneficiary_id=person,
            uploaded_by=staff_id,
            object_key=f"enrolment/{person}/{uuid.uuid4()}",
            sha256="0" * 64,
            content_type="image/jpeg",
            width=640,
            height=480,
            quality={},
            state=state,
        )
        session.add(photo)
        session.flush()
        session.add(
            FaceTemplate(
                photo_id=photo.id,
                beneficiary_id=person,
                county_code=county,
                model=templates.TEMPLATE_MODEL,
                vector=template_to_bytes(vector),
                created_at=utcnow(),
            )
        )


def test_cohort_and_gallery_read_other_peoples_active_templates(app, api, world):
    supervisor = api.as_("supervisor_a")
    people = [
        uuid.UUID(supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], n)).json()["id"])
        for n in range(1, 8)
    ]
    rng = np.random.default_rng(3)
    with app.app_context():
        session = db.session()
        staff_id = session.scalar(select(StaffUser.id).where(StaffUser.username == "supervisor_a"))
        for person in people[:6]:
            _enrol(session, person, staff_id, rng.normal(0, 0.1, size=(2, 128)))
        # A retired photo's template no longer counts.
        _enrol(session, people[6], staff_id, rng.normal(0, 0.1, size=(1, 128)), state=PhotoState.RETIRED)
        session.commit()

        own = templates.matching_templates(session, people[0])
        assert len(own.ids) == 2 and set(own.owners) == {people[0]}
        assert own.vectors.shape == (2, 128)

        gallery = templates.county_gallery(session, county=COUNTY, exclude=people[0])
        assert set(gallery.owners) == set(people[1:6])
        assert [len(t) for t in gallery.by_owner()] == [2] * 5

        capped = templates.county_gallery(session, county=COUNTY, exclude=people[0], people=3)
        assert len(set(capped.owners)) == 3 and len(capped.by_owner()) == 3
        assert templates.county_gallery(session, county="999999", exclude=people[0]).vectors.shape == (0, 128)

        assert len(templates.enrolment_templates(session, people[6]).ids) == 0
        calibration = templates.calibration_gallery(session, county=COUNTY)
        assert sorted(len(enrolled) for enrolled, _ in calibration) == [2] * 6


def test_a_small_county_takes_its_cohort_from_the_nearest_wider_region_and_keeps_its_own_people(app, api, world):
    people = _people(api, world, 12)
    claimant, *others = people
    # Where each other person's templates are filed: the claimant's county, its prefecture, its
    # province, and another province.
    where = [COUNTY] * 2 + [COUNTY[:4] + "01"] * 3 + [COUNTY[:2] + "0101"] * 3 + ["110101"] * 3
    rng = np.random.default_rng(5)
    with app.app_context():
        session = db.session()
        staff_id = session.scalar(select(StaffUser.id).where(StaffUser.username == "supervisor_a"))
        for person, county in zip(others, where, strict=True):
            _enrol(session, person, staff_id, rng.normal(0, 0.1, size=(2, 128)), county=county)
        session.commit()

        def cohort(minimum: int, people: int = 500) -> list[str]:
            gallery = templates.cohort_gallery(session, county=COUNTY, exclude=claimant, people=people, minimum=minimum)
            assert len(gallery.ids) == len(set(gallery.ids)) == 2 * len(set(gallery.owners))
            return sorted(where[others.index(owner)] for owner in set(gallery.owners))

        assert cohort(2) == [COUNTY] * 2
        assert cohort(4) == sorted([COUNTY] * 2 + [COUNTY[:4] + "01"] * 3)
        assert cohort(8) == sorted(where[:8])
        assert cohort(20) == sorted(where)
        # Capped: the county's own people first, the rest from the wider region.
        assert cohort(20, people=4).count(COUNTY) == 2 and len(cohort(20, people=4)) == 4


def _people(api, world, count: int) -> list[uuid.UUID]:
    supervisor = api.as_("supervisor_a")
    return [
        uuid.UUID(supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], n)).json()["id"])
        for n in range(1, count + 1)
    ]


def _enrol_logged(session, person: uuid.UUID, staff_id: uuid.UUID, vector) -> uuid.UUID:
    """One encoded enrolment photo and its template, logged as encode_photo logs it; returns the photo id."""
    photo = EnrolmentPhoto(
        beneficiary_id=person,
        uploaded_by=staff_id,
        object_key=f"enrolment/{person}/{uuid.uuid4()}",
        sha256="0" * 64,
        content_type="image/jpeg",
        width=640,
        height=480,
        quality={},
        state=PhotoState.ENCODED,
    )
    session.add(photo)
    session.flush()
    template_id = uuid.uuid4()
    session.add(
        FaceTemplate(
            id=template_id,
            photo_id=photo.id,
            beneficiary_id=person,
            county_code=COUNTY,
            model=templates.TEMPLATE_MODEL,
            vector=template_to_bytes(vector),
            created_at=utcnow(),
        )
    )
    templates.note_changes(session, added=[(COUNTY, template_id)])
    return photo.id


def _unit(rng, n: int) -> np.ndarray:
    vectors = rng.normal(0, 1, size=(n, 128))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_live_gallery_finds_the_duplicate_and_follows_other_sessions(app, api, world):
    """Loaded once, then current: a template another session commits is found, a retired one is forgotten,
    and the search ranks exactly as the database path (worker.face.matching.duplicate_candidates) does."""
    people = _people(api, world, 8)
    rng = np.random.default_rng(5)
    vectors = _unit(rng, 8) * 0.6
    # A T-norm cut six identities can reach (the configured one needs a county's worth).
    limits = dict(norm_threshold=-1.5, raw_threshold=0.5, max_candidates=3, cohort_min=3)
    with app.app_context():
        session, cipher = db.session(), Ctx.current().cipher
        staff_id = session.scalar(select(StaffUser.id).where(StaffUser.username == "supervisor_a"))
        photos = {person: _enrol_logged(session, person, staff_id, vectors[k]) for k, person in enumerate(people[:6])}
        session.commit()
        templates.forget_galleries()

        gallery = templates.live_gallery(session, cipher, county=COUNTY)
        assert len(gallery) == 6
        probe = vectors[2:3] + 0.01
        found = gallery.duplicate_candidates(probe, exclude=people[7], **limits)
        assert [c.owner for c in found] == [people[2]]
        stored = templates.county_gallery(session, county=COUNTY, exclude=people[7])
        expected = duplicate_candidates(probe, stored.vectors, stored.owners, **limits)
        assert [(c.owner, round(c.distance, 4), round(c.score, 3)) for c in found] == [
            (c.owner, round(c.distance, 4), round(c.score, 3)) for c in expected
        ]
        # The enrolling person's own templates are never their duplicate.
        assert gallery.duplicate_candidates(probe, exclude=people[2], **limits) == []
        session.commit()

        # Another session (another worker) enrols a seventh face and commits: the next search sees it.
        with Session(db.engine()) as other:
            _enrol_logged(other, people[6], staff_id, vectors[6])
            other.commit()
        gallery = templates.live_gallery(session, cipher, county=COUNTY)
        assert len(gallery) == 7
        assert [c.owner for c in gallery.duplicate_candidates(vectors[6:7], exclude=people[7], **limits)] == [people[6]]

        # Retired through the service: the gallery forgets it without a reload.
        beneficiary = session.get(Beneficiary, people[2])
        retire_photos(
            Ctx.current(), actor=Actor.system(), beneficiary=beneficiary, reason="test", photo_ids=[photos[people[2]]]
        )
        session.commit()
        again = templates.live_gallery(session, cipher, county=COUNTY)
        assert again is gallery and len(gallery) == 6
        assert gallery.duplicate_candidates(probe, exclude=people[7], **limits) == []


def test_a_simultaneous_enrolment_waits_and_then_sees_the_first(app, api, world):
    """Two workers enrolling the same face in one county: the second's search waits for the first's commit
    (the county's gallery lock) and finds the first person; neither misses the other."""
    people = _people(api, world, 5)
    rng = np.random.default_rng(9)
    vectors = _unit(rng, 4) * 0.6
    with app.app_context():
        session = db.session()
        staff_id = session.scalar(select(StaffUser.id).where(StaffUser.username == "supervisor_a"))
        for k, person in enumerate(people[:3]):
            _enrol_logged(session, person, staff_id, vectors[k])
        session.commit()
        cipher = Ctx.current().cipher
        first = Session(db.engine())
        _enrol_logged(first, people[3], staff_id, vectors[3])  # holds the county's lock, not committed
        seen: list[list[uuid.UUID]] = []

        def second_worker() -> None:
            with app.app_context(), Session(db.engine()) as second:
                _enrol_logged(second, people[4], staff_id, vectors[3] + 0.01)
                gallery = templates.live_gallery(second, cipher, county=COUNTY)
                found = gallery.duplicate_candidates(
                    vectors[3:4] + 0.01,
                    exclude=people[4],
                    norm_threshold=10.0,
                    raw_threshold=0.3,
                    max_candidates=3,
                    cohort_min=3,
                )
                seen.append([c.owner for c in found])
                second.commit()

        worker = threading.Thread(target=second_worker, daemon=True)
        worker.start()
        # The second worker waiting for the first's lock: a backend that the first's blocks (nothing else of
        # this database that happens to wait, such as a worker still finishing an earlier test's task).
        holder = first.scalar(text("SELECT pg_backend_pid()"))
        waiting = text("SELECT count(*) FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))")
        try:
            wait_for(lambda: session.scalar(waiting, {"holder": holder}) == 1, timeout=30, interval=0.02)
            assert seen == [] and worker.is_alive()
            first.commit()
        finally:
            # A failure must not leave the lock held: the next test's cleanup would wait for it for ever.
            first.close()
            worker.join(timeout=30)
        assert seen == [[people[3]]]


class _Reference:
    """What a FaceGallery must answer, the plain way: a dict of templates, distances in float64."""

    def __init__(self) -> None:
        self.templates: dict[uuid.UUID, tuple[uuid.UUID, np.ndarray]] = {}
        self.owners: list[uuid.UUID] = []  # in code order: first seen, never renumbered

    def put(self, template_id: uuid.UUID, owner: uuid.UUID, vector: np.ndarray) -> None:
        if owner not in self.owners:
            self.owners.append(owner)
        self.templates.pop(template_id, None)
        self.templates[template_id] = (owner, vector.astype(np.float32))

    def identity_distances(self, probes: np.ndarray, exclude: uuid.UUID | None) -> np.ndarray:
        worst = np.full(len(self.owners), np.inf)
        for code, owner in enumerate(self.owners):
            mine = [v for o, v in self.templates.values() if o == owner]
            if mine and owner != exclude:
                distances = np.linalg.norm(probes[:, None, :].astype(np.float64) - np.array(mine), axis=2)
                worst[code] = distances.min(axis=1).max()
        return worst


def _check(gallery: FaceGallery, reference: _Reference, rng: np.random.Generator) -> None:
    assert len(gallery) == len(reference.templates)
    probes = _unit(rng, int(rng.integers(1, 4))).astype(np.float32)
    exclude = reference.owners[int(rng.integers(len(reference.owners)))] if reference.owners else None
    found = gallery.identity_distances(probes, exclude=exclude)
    expected = reference.identity_distances(probes, exclude)
    assert np.array_equal(np.isinf(found), np.isinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(found[finite], expected[finite], rtol=0, atol=1e-5)
    held = [(t, o, v) for t, (o, v) in reference.templates.items() if o != exclude]
    limits = dict(norm_threshold=-1.0, raw_threshold=1.3, max_candidates=5, cohort_min=3)
    ranked = (
        duplicate_candidates(probes, np.array([v for *_, v in held]), [o for _, o, _ in held], **limits) if held else []
    )
    assert [c.owner for c in gallery.duplicate_candidates(probes, exclude=exclude, **limits)] == [
        c.owner for c in ranked
    ]


def test_the_in_memory_gallery_answers_as_the_plain_computation_through_any_changes():
    """Built from batches with some people's templates scattered, then a long random run of puts (new people,
    more templates, replaced ids) and removals, past several regroupings: every search gives each identity
    the distance a float64 computation over the held templates gives (within 1e-5), and the same candidates."""
    rng = np.random.default_rng(17)
    people = [uuid.uuid4() for _ in range(150)]
    rows = [(uuid.uuid4(), people[int(rng.integers(len(people)))], vector) for vector in _unit(rng, 400)]
    # Most of a person's templates side by side, as the database returns them, some elsewhere.
    rows.sort(key=lambda row: (people.index(row[1]) if rng.random() < 0.8 else rng.integers(len(people)), row[0]))
    reference = _Reference()
    for template_id, owner, vector in rows:
        reference.put(template_id, owner, vector)
    batches = [tuple(zip(*rows[k : k + 64], strict=True)) for k in range(0, len(rows), 64)]
    gallery = FaceGallery.build(((ids, owners, np.array(v)) for ids, owners, v in batches), capacity=100)
    _check(gallery, reference, rng)
    regrouped = 0
    for step in range(1500):
        roll = rng.random()
        held = list(reference.templates)
        if roll < 0.4 and held:
            gone = held[int(rng.integers(len(held)))]
            del reference.templates[gone]
            gallery.remove(gone)
            assert gone not in gallery
        elif roll < 0.45:
            gallery.remove(uuid.uuid4())  # not held: ignored
        else:
            # Below 0.55: a held template replaced under the same id.
            template_id = held[int(rng.integers(len(held)))] if roll < 0.55 and held else uuid.uuid4()
            owner = uuid.uuid4() if roll > 0.9 else people[int(rng.integers(len(people)))]
            vector = _unit(rng, 1)[0]
            reference.put(template_id, owner, vector)
            gallery.put(template_id, owner, vector)
            assert template_id in gallery
        regrouped += gallery._grouped == gallery._rows and gallery._dead == 0
        if step % 25 == 0:
            _check(gallery, reference, rng)
    _check(gallery, reference, rng)
    assert regrouped > 1
    assert all(t in gallery for t in reference.templates)


def test_an_empty_gallery_and_one_emptied_by_removals():
    rng = np.random.default_rng(4)
    empty = FaceGallery.build([], capacity=0)
    assert (
        len(empty) == 0
        and empty.duplicate_candidates(
            _unit(rng, 2), exclude=None, norm_threshold=0, raw_threshold=1, max_candidates=3, cohort_min=3
        )
        == []
    )
    ids, owner = [uuid.uuid4(), uuid.uuid4()], uuid.uuid4()
    gallery = FaceGallery.build([(ids, [owner, owner], _unit(rng, 2))], capacity=2)
    for template_id in ids:
        gallery.remove(template_id)
    assert len(gallery) == 0 and np.array_equal(gallery.identity_distances(_unit(rng, 2)), [np.inf])
