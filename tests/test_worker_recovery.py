"""The database is the truth: work whose message was lost, or whose worker died, is picked up again."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from server import db
from server.context import Ctx
from server.models import EnrolmentPhoto, PhotoState, StaffUser, utcnow
from server.services import beneficiaries, enrolment, leases
from server.services.audit import Actor
from server.services.auth import staff_actor
from tests.conftest import beneficiary_body, wait_for
from tests.support.photos import photo_bytes

pytestmark = pytest.mark.usefixtures("celery_worker")


def _photo_without_a_message(app, world) -> str:
    """An accepted photo whose task message never reached the broker (the API crashed after commit)."""
    with app.app_context():
        session = db.session()
        actor = Actor(kind="system", id="test", region_code=world["county"])
        person = beneficiaries.create_beneficiary(
            Ctx.current(), actor=actor, data=beneficiary_body(world["village_a"], 1)
        )
        session.commit()
        supervisor = _supervisor(session)
        with db.unit_of_work(session):
            (photo,) = enrolment.add_photos(
                Ctx.current(),
                actor=supervisor,
                beneficiary=person,
                uploads=[enrolment.Upload("obama.jpg", photo_bytes("obama.jpg"))],
            )
        return str(photo.id)


def _supervisor(session) -> Actor:
    return staff_actor(session.scalar(select(StaffUser).where(StaffUser.username == "supervisor_a")))


def _state(app, photo_id: str) -> PhotoState:
    with app.app_context():
        return db.session().get(EnrolmentPhoto, photo_id).state


def test_a_photo_whose_message_was_lost_is_requeued_and_encoded(app, world):
    photo_id = _photo_without_a_message(app, world)
    with app.app_context():
        # Old enough to count as lost.
        db.session().execute(
            update(EnrolmentPhoto)
            .where(EnrolmentPhoto.id == photo_id)
            .values(created_at=utcnow() - timedelta(minutes=5))
        )
        db.session().commit()
    assert _state(app, photo_id) == PhotoState.RECEIVED
    app.extensions["fieldcheck.celery"].send_task("fieldcheck.requeue_stale_work")
    wait_for(lambda: _state(app, photo_id) == PhotoState.ENCODED)


def test_a_photo_held_by_a_dead_worker_is_taken_back_after_its_lease(app, world):
    photo_id = _photo_without_a_message(app, world)
    with app.app_context():
        db.session().execute(
            update(EnrolmentPhoto)
            .where(EnrolmentPhoto.id == photo_id)
            .values(state=PhotoState.PROCESSING, attempts=1, lease_expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session().commit()
    app.extensions["fieldcheck.celery"].send_task("fieldcheck.requeue_stale_work")
    wait_for(lambda: _state(app, photo_id) == PhotoState.ENCODED)


def test_a_live_lease_is_respected_and_a_duplicate_message_does_nothing(app, world):
    photo_id = _photo_without_a_message(app, world)
    with app.app_context():
        settings = app.config["FIELDCHECK"]
        assert leases.claim(db.session(), EnrolmentPhoto, photo_id, settings.task_lease_seconds) == 1
        # Another delivery of the same message while the first worker still holds the lease.
        outcome = enrolment.encode_photo(Ctx.current(), photo_id=photo_id)
    assert outcome == "not_claimable"
    assert _state(app, photo_id) == PhotoState.PROCESSING
