"""Face enrolment: photos in, enrolment state out, photo views audited."""

from __future__ import annotations

import uuid

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from server import db
from server.api.access import ctx, current_actor, staff_only
from server.api.errors import answers
from server.models import EnrolmentPhoto, StaffRole
from server.queue import enqueue
from server.schemas.enrolment import (
    EnrolmentSchema,
    PhotoUploadOptionsSchema,
    PhotoUploadSchema,
    PhotoViewQuerySchema,
)
from server.services import enrolment
from server.services.beneficiaries import get_beneficiary
from server.services.errors import NotFound

blp = Blueprint("enrolment", __name__, url_prefix="/api/v1", description="Face enrolment photos and templates")
REVIEWERS = (StaffRole.ADMIN, StaffRole.SUPERVISOR)


def _enrolment(beneficiary_id: uuid.UUID) -> dict:
    photos = enrolment.photos_of(ctx(), beneficiary_id=beneficiary_id)
    return {"beneficiary_id": beneficiary_id, "state": enrolment.enrolment_state(photos), "photos": photos}


def _photo(beneficiary_id: uuid.UUID, photo_id: uuid.UUID) -> EnrolmentPhoto:
    photo = db.session().scalar(
        select(EnrolmentPhoto).where(EnrolmentPhoto.id == photo_id, EnrolmentPhoto.beneficiary_id == beneficiary_id)
    )
    if photo is None:
        raise NotFound("photo not found", {"photo_id": ["not_found"]})
    return photo


@blp.route("/beneficiaries/<uuid:beneficiary_id>/photos")
class Photos(MethodView):
    @staff_only()
    @answers(404, 413)
    @blp.arguments(PhotoUploadOptionsSchema, location="query")
    @blp.arguments(PhotoUploadSchema, location="files")
    @blp.response(202, EnrolmentSchema)
    def post(self, options: dict, files: dict, beneficiary_id: uuid.UUID):
        """Upload 1–5 enrolment photos; each must show one sharp, frontal, large enough face, or nothing is stored."""
        session = db.session()
        beneficiary = get_beneficiary(ctx(), actor=current_actor(), beneficiary_id=beneficiary_id)
        uploads = [enrolment.Upload(f.filename or "", f.read()) for f in files["photos"]]
        # Committed before the tasks are sent: the worker must find the rows.
        with db.unit_of_work(session):
            photos = enrolment.add_photos(
                ctx(),
                actor=current_actor(),
                beneficiary=beneficiary,
                uploads=uploads,
                replace=options["replace"],
            )
        for photo in photos:
            enqueue(enrolment.ENCODE_TASK, str(photo.id))
        return _enrolment(beneficiary_id)


@blp.route("/beneficiaries/<uuid:beneficiary_id>/enrolment")
class Enrolment(MethodView):
    @staff_only()
    @answers(404)
    @blp.response(200, EnrolmentSchema)
    def get(self, beneficiary_id: uuid.UUID):
        """Enrolment state and the photos behind it (no image data)."""
        get_beneficiary(ctx(), actor=current_actor(), beneficiary_id=beneficiary_id)
        return _enrolment(beneficiary_id)


@blp.route("/beneficiaries/<uuid:beneficiary_id>/photos/<uuid:photo_id>")
class Photo(MethodView):
    @staff_only()
    @answers(404)
    @db.transaction
    @blp.response(200, EnrolmentSchema)
    def delete(self, beneficiary_id: uuid.UUID, photo_id: uuid.UUID):
        """Retire a photo: it stops counting for matching; the object stays for the audit trail."""
        beneficiary = get_beneficiary(ctx(), actor=current_actor(), beneficiary_id=beneficiary_id)
        _photo(beneficiary_id, photo_id)
        enrolment.retire_photos(
            ctx(), actor=current_actor(), beneficiary=beneficiary, reason="retired by staff", photo_ids=[photo_id]
        )
        return _enrolment(beneficiary_id)


@blp.route("/beneficiaries/<uuid:beneficiary_id>/photos/<uuid:photo_id>/image")
class PhotoImage(MethodView):
    @staff_only(*REVIEWERS)
    @answers(404)
    @db.transaction
    @blp.arguments(PhotoViewQuerySchema, location="query")
    @blp.response(200, content_type="image/jpeg", description="The decrypted photo; the view is audited")
    def get(self, query: dict, beneficiary_id: uuid.UUID, photo_id: uuid.UUID):
        """View an enrolment photo, stating why; every view is kept in the audit log."""
        beneficiary = get_beneficiary(ctx(), actor=current_actor(), beneficiary_id=beneficiary_id)
        data, mimetype = enrolment.read_photo(
            ctx(), actor=current_actor(), beneficiary=beneficiary, photo_id=photo_id, reason=query["reason"]
        )
        return Response(data, mimetype=mimetype, headers={"Cache-Control": "no-store"})
