"""The face gallery on PostgreSQL: whose templates a cohort and a duplicate search read, and a capped cohort."""

import uuid

import numpy as np
from sqlalchemy import select

from server import db
from server.models import EnrolmentPhoto, FaceTemplate, PhotoState, StaffUser, utcnow
from server.services import templates
from tests.conftest import COUNTY, beneficiary_body
from worker.face.encode import template_to_bytes


def _enrol(session, person: uuid.UUID, staff_id: uuid.UUID, vectors, state=PhotoState.ENCODED) -> None:
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
                county_code=COUNTY,
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
