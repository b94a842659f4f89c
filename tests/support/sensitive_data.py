"""One of every kind of encrypted data an office holds, for the tests that move it (a key rotation, a backup
restored elsewhere) and then read it all back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from server import db, migrate
from server.app import create_app
from server.config import Settings
from server.context import Ctx
from server.demo import seed_demo
from server.models import Beneficiary, EnrolmentPhoto, FaceTemplate, StaffUser, Visit, VisitOutcome
from server.services import auth, beneficiaries, biometrics

PHOTO_KEY = "photos/seeded/1.jpg"
PHOTO = b"\xff\xd8 a face, as bytes"
VECTOR = bytes(range(128)) * 4
GPS = [{"lat": 27.8312, "lon": 112.9188, "accuracy_m": 8}]


def seeded_app(instance: Path, database_url: str) -> tuple[Flask, dict]:
    """An app without routes on a new database (migrated) with the sensitive data seeded, and what was seeded."""
    from tests.conftest import REDIS_URL, make_settings

    instance.mkdir()
    settings: Settings = make_settings(instance, database_url=database_url, broker_url=REDIS_URL)
    app = create_app(settings, http=False)
    with app.app_context():
        migrate.upgrade(db.engine())
    return app, seed_sensitive_data(app)


def seed_sensitive_data(app: Flask) -> dict:
    """Demo people, one with a phone and an address, a photo with its template, a visit, and an unused code."""
    with app.app_context():
        ctx = Ctx.current()
        session = ctx.session
        with db.unit_of_work(session):
            seed_demo(ctx)
            person = session.scalars(select(Beneficiary).order_by(Beneficiary.name)).first()
            person.phone, person.home_address = "13800138000", "河西村3组15号"
            worker = session.scalar(select(StaffUser).where(StaffUser.username == "fieldworker"))
            biometrics.put(ctx, key=PHOTO_KEY, data=PHOTO)
            photo = EnrolmentPhoto(
                beneficiary_id=person.id,
                uploaded_by=worker.id,
                object_key=PHOTO_KEY,
                sha256="0" * 64,
                content_type="image/jpeg",
                width=640,
                height=480,
                quality={},
            )
            session.add(photo)
            session.flush()
            now = datetime.now(UTC)
            session.add(
                FaceTemplate(
                    photo_id=photo.id,
                    beneficiary_id=person.id,
                    county_code=person.village_code[:6],
                    model="dlib-resnet",
                    vector=VECTOR,
                    created_at=now,
                )
            )
            session.add(
                Visit(
                    field_worker_id=worker.id,
                    client_id="rotation-visit",
                    beneficiary_id=person.id,
                    region_code=person.village_code,
                    worker_region_code=worker.region_code,
                    started_at=now,
                    ended_at=now,
                    received_at=now,
                    gps_fixes=GPS,
                    checklist_version=1,
                    checklist={"present": True},
                    outcome=VisitOutcome.CONFIRMED_PRESENT,
                    notes="老人在家",
                    device_info={},
                )
            )
            admin = session.scalar(select(StaffUser).where(StaffUser.username == "admin"))
            _device, code = auth.issue_activation_code(
                ctx, actor=auth.staff_actor(admin), beneficiary=person, label=None
            )
        return {"person": person.id, "id_number": person.id_number, "code": code}


def reads_everything_seeded(app: Flask, seeded: dict) -> None:
    """Everything seed_sensitive_data stored reads back as it was, and the person is found by ID number."""
    with app.app_context():
        ctx = Ctx.current()
        session = ctx.session
        person = session.get(Beneficiary, seeded["person"])
        assert (person.id_number, person.phone, person.home_address) == (
            seeded["id_number"],
            "13800138000",
            "河西村3组15号",
        )
        found = beneficiaries.find_by_id_number(ctx, id_number=seeded["id_number"], region_code="431099")
        assert found is not None and found.id == person.id
        assert session.scalar(select(FaceTemplate.vector)) == VECTOR
        visit = session.scalar(select(Visit))
        assert (visit.gps_fixes, visit.checklist, visit.notes) == (GPS, {"present": True}, "老人在家")
        assert biometrics.get(ctx, key=PHOTO_KEY) == PHOTO
        session.rollback()
