"""Liveness check-ins: challenges and submissions from phones, status polling, staff views."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from server import db
from server.api.access import authenticated, ctx, current_actor, settings, staff_only
from server.api.errors import answers
from server.api.multipart import Blueprint
from server.api.paging import Paging
from server.models import CheckinState, StaffRole
from server.queue import enqueue
from server.schemas.checkin import (
    ChallengeRequestSchema,
    ChallengeSchema,
    CheckinQuerySchema,
    CheckinSchema,
    CheckinStatusSchema,
    CheckinUploadSchema,
    GpsFixSchema,
    ReviewVerdictSchema,
)
from server.services import checkins, verification
from server.services.beneficiaries import get_beneficiary
from server.services.errors import DomainError

blp = Blueprint("checkins", __name__, url_prefix="/api/v1", description="Liveness face check-ins")


@blp.route("/checkin-challenges")
class Challenges(MethodView):
    @authenticated
    @answers(403, 404, 409, 429)
    @db.transaction
    @blp.arguments(ChallengeRequestSchema)
    @blp.response(201, ChallengeSchema)
    def post(self, body: dict):
        """Ask for a single-use challenge: 2–3 gentle actions in random order, valid for about two minutes."""
        actor = current_actor()
        beneficiary_id = uuid.UUID(actor.beneficiary_id) if actor.kind == "device" else body.get("beneficiary_id")
        if beneficiary_id is None:
            raise DomainError.field("beneficiary_id", "required", "staff name the beneficiary they assist")
        beneficiary = get_beneficiary(ctx(), actor=actor, beneficiary_id=beneficiary_id)
        challenge = checkins.issue_challenge(
            ctx(),
            actor=actor,
            beneficiary=beneficiary,
            assisted_by_relative=body["assisted_by_relative"],
            visit_id=body.get("visit_id"),
        )
        limits = settings().checkin
        return {
            "id": challenge.id,
            "nonce": challenge.nonce,
            "mode": challenge.mode,
            "visit_id": challenge.visit_id,
            "expires_at": challenge.expires_at,
            "actions": checkins.prompts(challenge.actions),
            "min_frames": limits.min_frames,
            "max_frames": limits.max_frames,
            "light": checkins.light_of(challenge, settings()),
        }


# One instance: a schema built per request copies its fields.
_GPS_FIX = GpsFixSchema()


@blp.route("/checkins")
class Checkins(MethodView):
    @authenticated
    @answers(403, 404, 409, 410, 413, 429)
    @blp.arguments(CheckinUploadSchema, location="multipart")
    @blp.response(202, CheckinStatusSchema)
    @blp.alt_response(200, schema=CheckinStatusSchema, description="A resubmission: the check-in already stored")
    def post(self, form: dict):
        """Submit a challenge's frames (multipart: `metadata` JSON, `frames` files); verified in the background."""
        meta = form["metadata"]
        uploads = form["frames"]
        if len(uploads) != len(meta["frames"]):
            raise DomainError.field("frames", "frame_count_mismatch", "send one metadata entry per frame file")
        frames = [
            checkins.FrameUpload(
                data=upload.read(), captured_at=info["captured_at"], action=info["action"], colour=info["colour"]
            )
            for upload, info in zip(uploads, meta["frames"], strict=True)
        ]
        # Committed before the task is sent: the worker must find the row.
        with db.unit_of_work(db.session()):
            checkin, created = checkins.submit(
                ctx(),
                actor=current_actor(),
                challenge_id=meta["challenge_id"],
                client_id=meta["client_id"],
                frames=frames,
                # Dumped back to JSON types for storage: timestamps as ISO strings.
                gps=_GPS_FIX.dump(meta["gps"]) if meta["gps"] else None,
                device_info=meta["device"],
            )
        if created:
            enqueue(checkins.VERIFY_TASK, str(checkin.id))
        return checkins.device_view(checkin), 202 if created else 200

    @staff_only()
    @blp.arguments(CheckinQuerySchema, location="query")
    @blp.response(200, CheckinSchema(many=True))
    @blp.paginate(order_by=checkins.LIST_ORDER)
    def get(self, query: dict, pagination_parameters: Paging):
        """Check-ins in your region with their verdicts and reasons, newest first."""
        items, total = checkins.list_checkins(
            ctx(),
            actor=current_actor(),
            filters=query,
            page=pagination_parameters.rows,
        )
        return pagination_parameters.page_of(items, total)


@blp.route("/checkins/<uuid:checkin_id>")
class CheckinStatus(MethodView):
    @authenticated
    @answers(403, 404)
    @blp.response(200, CheckinStatusSchema)
    def get(self, checkin_id: uuid.UUID):
        """Poll a check-in: pending, verified, rejected (with what to do) or review. Never scores."""
        return checkins.device_view(checkins.get_checkin(ctx(), actor=current_actor(), checkin_id=checkin_id))


@blp.route("/checkins/<uuid:checkin_id>/details")
class CheckinDetails(MethodView):
    @staff_only()
    @answers(404)
    @blp.response(200, CheckinSchema)
    def get(self, checkin_id: uuid.UUID):
        """A check-in with its reasons and scores, for staff."""
        return checkins.get_checkin(ctx(), actor=current_actor(), checkin_id=checkin_id)


@blp.route("/checkins/<uuid:checkin_id>/decision")
class CheckinReview(MethodView):
    @staff_only(StaffRole.ADMIN, StaffRole.SUPERVISOR)
    @answers(404, 409)
    @db.transaction
    @blp.arguments(ReviewVerdictSchema)
    @blp.response(200, CheckinSchema)
    def post(self, body: dict, checkin_id: uuid.UUID):
        """Decide a check-in the worker sent to review: verified (counts as a verified check-in, closing an
        undecided missed_checkin case) or rejected. 409 `invalid_transition` unless it is in review."""
        checkin = checkins.get_checkin(ctx(), actor=current_actor(), checkin_id=checkin_id)
        return verification.decide_review(
            ctx(),
            actor=current_actor(),
            checkin=checkin,
            verdict=CheckinState(body["verdict"]),
            reason=body["reason"],
        )
