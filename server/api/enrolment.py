"""Face enrolment: photos in, enrolment state out, photo views audited."""

from __future__ import annotations

import uuid

from flask import Response
from flask.views import MethodView
from sqlalchemy import select

from server import db
from server.api.access import ctx, current_actor, staff_only
from server.api.errors import answers
from server.api.paging import Blueprint
from server.models import EnrolmentPhoto, PhotoState, StaffRole
from server.queue import enqueue
from server.schemas.enrolment import (
    EnrolmentSchema,
    PhotoChangeReviewSchema,
    PhotoChangeSchema,
    PhotoRetireQuerySchema,
    PhotoUploadOptionsSchema,
    PhotoUploadSchema,
    PhotoViewQuerySchema,
)
from server.services import enrolment, photo_changes
from server.services.beneficiaries import get_beneficiary
from server.services.errors import NotFound

blp = Blueprint("enrolment", __name__, url_prefix="/api/v1", description="Face enrolment photos and templates")
REVIEWERS = (StaffRole.ADMIN, StaffRole.SUPERVISOR)


def _enrolment(beneficiary_id: uuid.UUID) -> dict:
    context = ctx()
    photos = enrolment.photos_of(context, beneficiary_id=beneficiary_id)
    return {
        "beneficiary_id": beneficiary_id,
        "state": enrolment.enrolment_state(photos),
        "photos": photos,
        "pending_change": photo_changes.pending_of(context, beneficiary_id=beneficiary_id),
    }


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
    @answers(404, 409, 413)
    @blp.arguments(PhotoUploadOptionsSchema, location="query")
    @blp.arguments(PhotoUploadSchema, location="files")
    @blp.response(202, EnrolmentSchema)
    def post(self, options: dict, files: dict, beneficiary_id: uuid.UUID):
        """Upload 1–5 enrolment photos; each must show one sharp, frontal, large enough face, or nothing is stored.

        For a person already enrolled the photos are a proposal (`pending_change`) that a supervisor or
        admin other than you approves; until then the person's current photos keep counting."""
        session = db.session()
        beneficiary = get_beneficiary(ctx(), actor=current_actor(), beneficiary_id=beneficiary_id)
        uploads = [enrolment.Upload(f.filename or "", f.read()) for f in files["photos"]]
        # Committed before the tasks are sent: the worker must find the rows.
        with db.unit_of_work(session):
            photos = photo_changes.upload(
                ctx(),
                actor=current_actor(),
                beneficiary=beneficiary,
                uploads=uploads,
                replace=options["replace"],
                reason=options.get("reason"),
            )
        for photo in photos:
            if photo.state == PhotoState.RECEIVED:
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
    @answers(404, 409)
    @db.transaction
    @blp.arguments(PhotoRetireQuerySchema, location="query")
    @blp.response(200, EnrolmentSchema)
    def delete(self, query: dict, beneficiary_id: uuid.UUID, photo_id: uuid.UUID):
        """Retire a photo: it stops counting for matching; the object stays for the audit trail.

        A photo in use (encoded) is only proposed for retirement (`pending_change`): a second person approves."""
        beneficiary = get_beneficiary(ctx(), actor=current_actor(), beneficiary_id=beneficiary_id)
        photo = _photo(beneficiary_id, photo_id)
        photo_changes.retire(
            ctx(), actor=current_actor(), beneficiary=beneficiary, photo=photo, reason=query.get("reason")
        )
        return _enrolment(beneficiary_id)


@blp.route("/beneficiaries/<uuid:beneficiary_id>/photo-changes")
class PhotoChanges(MethodView):
    @staff_only()
    @answers(404)
    @blp.response(200, PhotoChangeSchema(many=True))
    def get(self, beneficiary_id: uuid.UUID):
        """Proposed changes to a person's photos, newest first, with who proposed and who decided them."""
        get_beneficiary(ctx(), actor=current_actor(), beneficiary_id=beneficiary_id)
        return photo_changes.changes_of(ctx(), beneficiary_id=beneficiary_id)


@blp.route("/beneficiaries/<uuid:beneficiary_id>/photo-changes/<uuid:change_id>/approve")
class PhotoChangeApproval(MethodView):
    @staff_only(*REVIEWERS)
    @answers(404, 409)
    @blp.arguments(PhotoChangeReviewSchema)
    @blp.response(200, EnrolmentSchema)
    def post(self, body: dict, beneficiary_id: uuid.UUID, change_id: uuid.UUID):
        """Approve a proposed photo change (not your own: 403 `four_eyes_required`); new photos go to encoding."""
        photo_changes.approve_and_release(
            ctx(),
            actor=current_actor(),
            beneficiary_id=beneficiary_id,
            change_id=change_id,
            reason=body.get("reason"),
            ring=enqueue,
        )
        return _enrolment(beneficiary_id)


@blp.route("/beneficiaries/<uuid:beneficiary_id>/photo-changes/<uuid:change_id>/reject")
class PhotoChangeRejection(MethodView):
    @staff_only()
    @answers(404, 409)
    @db.transaction
    @blp.arguments(PhotoChangeReviewSchema)
    @blp.response(200, EnrolmentSchema)
    def post(self, body: dict, beneficiary_id: uuid.UUID, change_id: uuid.UUID):
        """Reject a proposed photo change (a reason is required; the proposer may withdraw their own)."""
        beneficiary = get_beneficiary(ctx(), actor=current_actor(), beneficiary_id=beneficiary_id)
        change = photo_changes.get_change(ctx(), beneficiary=beneficiary, change_id=change_id)
        photo_changes.reject(
            ctx(), actor=current_actor(), beneficiary=beneficiary, change=change, reason=body.get("reason")
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
