"""Home visits: records and batch sync from field workers' devices, photos, and the supervisors' views."""

from __future__ import annotations

import uuid

from flask import Response, url_for
from flask.views import MethodView
from marshmallow import ValidationError

from server import db
from server.api.access import ctx, current_actor, settings, staff_only
from server.api.errors import answers, reason_codes
from server.api.paging import Blueprint, Paging
from server.models import StaffRole
from server.schemas.visit import (
    ChecklistsSchema,
    RosterEntrySchema,
    SyncResponseSchema,
    TeamStatSchema,
    TeamStatsQuerySchema,
    VisitCreateSchema,
    VisitEditSchema,
    VisitPhotoSchema,
    VisitPhotoUploadSchema,
    VisitPhotoViewQuerySchema,
    VisitQuerySchema,
    VisitSchema,
    VisitSyncEditSchema,
    VisitSyncSchema,
)
from server.services import visit_roster, visits

blp = Blueprint("visits", __name__, url_prefix="/api/v1", description="Home visits by field workers")
RECORDERS = (StaffRole.FIELD_WORKER,)
REVIEWERS = (StaffRole.ADMIN, StaffRole.SUPERVISOR)


def _view(visit) -> dict:
    return visits.views(ctx(), visits=[visit])[0]


def _batch_item(raw: object) -> visits.BatchItem:
    """Load one sync item on its own, so a malformed item is reported instead of failing the batch."""
    client_id = raw.get("client_id") if isinstance(raw, dict) else None
    client_id = client_id if isinstance(client_id, str) else None
    schema = VisitSyncEditSchema() if isinstance(raw, dict) and "based_on_version" in raw else VisitCreateSchema()
    try:
        return visits.BatchItem(client_id, data=schema.load(raw))
    except ValidationError as exc:
        return visits.BatchItem(client_id, errors=reason_codes(exc.normalized_messages()))


def _result(index: int, result: visits.ItemResult, flags: dict) -> dict:
    visit = result.visit
    return {
        "index": index,
        "client_id": result.client_id,
        "status": result.status,
        "http_status": result.http_status,
        "visit_id": visit.id if visit else None,
        "version": visit.version if visit else None,
        "flags": flags.get(visit.id, []) if visit else [],
        "errors": result.errors,
    }


@blp.route("/visits")
class Visits(MethodView):
    @staff_only(*RECORDERS)
    @answers(404, 409)
    @blp.arguments(VisitCreateSchema)
    @blp.response(201, VisitSchema)
    @blp.alt_response(200, schema=VisitSchema, description="A resubmission: the visit already stored")
    def post(self, body: dict):
        """Record a home visit; sending the same client id again returns the stored visit and changes nothing."""
        # Committed even when refused: a visit outside the worker's region is kept for review.
        with db.unit_of_work(db.session()):
            sent_at = body.get("device_sent_at")
            result = visits.record_visit(ctx(), actor=current_actor(), data=body, device_sent_at=sent_at)
        if result.status == "rejected":
            raise result.as_error()
        return _view(result.visit), result.http_status

    @staff_only()
    @db.transaction
    @blp.arguments(VisitQuerySchema, location="query")
    @blp.response(200, VisitSchema(many=True))
    @blp.paginate(order_by=visits.LIST_ORDER)
    def get(self, query: dict, pagination_parameters: Paging):
        """Visits you may see (a worker: their own), newest first, by region, worker, period, outcome and flag."""
        items, total = visits.list_visits(
            ctx(),
            actor=current_actor(),
            filters=query,
            page=pagination_parameters.rows,
        )
        page = pagination_parameters.page_of(items, total)
        return visits.shown_to(ctx(), actor=current_actor(), visits=page)


@blp.route("/visits/sync")
class VisitSync(MethodView):
    @staff_only(*RECORDERS)
    @answers(413)
    @blp.arguments(VisitSyncSchema)
    @blp.response(200, SyncResponseSchema)
    def post(self, body: dict):
        """Sync a device's offline visits and edits: each item gets its own result, and sending the batch
        again gives the same visits. Items that carry based_on_version edit the visit with that client id."""
        visits.check_batch_size(settings(), len(body["visits"]))
        items = [_batch_item(raw) for raw in body["visits"]]
        results = visits.sync_batch(
            ctx(), actor=current_actor(), items=items, device_sent_at=body.get("device_sent_at")
        )
        views = visits.views(ctx(), visits=[r.visit for r in results if r.visit is not None])
        flags = {v["visit"].id: sorted(f.code.value for f in v["flags"]) for v in views}
        counts = {status: 0 for status in ("created", "duplicate", "updated", "rejected")}
        for result in results:
            counts[result.status] += 1
        return {"results": [_result(i, r, flags) for i, r in enumerate(results)], "counts": counts}


@blp.route("/visits/checklists")
class Checklists(MethodView):
    @staff_only()
    @blp.response(200, ChecklistsSchema)
    def get(self):
        """The visit checklist's questions and answers, by version."""
        return {"versions": {str(k): v for k, v in visits.CHECKLIST_VERSIONS.items()}}


@blp.route("/visits/roster")
class Roster(MethodView):
    @staff_only(*RECORDERS)
    @db.transaction
    @blp.response(200, RosterEntrySchema(many=True))
    def get(self):
        """The people of your region a phone keeps for a round offline: masked ID, home position, enrolment
        state, and covered, due or overdue now. The download is audited."""
        return visit_roster.roster(ctx(), actor=current_actor())


@blp.route("/visits/team-stats")
class TeamStats(MethodView):
    @staff_only(*REVIEWERS)
    @blp.arguments(TeamStatsQuerySchema, location="query")
    @blp.response(200, TeamStatSchema(many=True))
    def get(self, query: dict):
        """Per field worker in your region: visits in the period, flagged visits, flag rate and flags by kind."""
        return visits.team_stats(
            ctx(),
            actor=current_actor(),
            started_from=query.get("started_from"),
            started_to=query.get("started_to"),
            region_code=query.get("region_code"),
        )


@blp.route("/visits/<uuid:visit_id>")
class VisitById(MethodView):
    @staff_only()
    @answers(404)
    @db.transaction
    @blp.response(200, VisitSchema)
    def get(self, visit_id: uuid.UUID):
        """One visit with its flags, photos and linked check-ins."""
        visit = visits.get_visit(ctx(), actor=current_actor(), visit_id=visit_id)
        return visits.shown_to(ctx(), actor=current_actor(), visits=[visit])[0]

    @staff_only(*RECORDERS)
    @answers(403, 404, 409)
    @db.transaction
    @blp.arguments(VisitEditSchema)
    @blp.response(200, VisitSchema)
    def patch(self, body: dict, visit_id: uuid.UUID):
        """Edit your visit: based_on_version must be the version you edited, or 409 stale_version."""
        visit = visits.get_visit(ctx(), actor=current_actor(), visit_id=visit_id)
        based_on = body.pop("based_on_version")
        visits.edit_visit(ctx(), actor=current_actor(), visit=visit, based_on_version=based_on, changes=body)
        return _view(visit)


@blp.route("/visits/<uuid:visit_id>/photos")
class VisitPhotos(MethodView):
    @staff_only(*RECORDERS)
    @answers(403, 404, 413)
    @db.transaction
    @blp.arguments(VisitPhotoUploadSchema, location="files")
    @blp.response(201, VisitPhotoSchema(many=True))
    @blp.alt_response(200, schema=VisitPhotoSchema(many=True), description="Every photo sent was already stored")
    def post(self, files: dict, visit_id: uuid.UUID):
        """Add photos to your visit (multipart `photos`); a photo sent again is stored once; a bad one stores none.
        Answers the visit's photos: 201 with `Location` naming the first new photo's image, or 200 when
        every photo was already stored."""
        visit = visits.get_visit(ctx(), actor=current_actor(), visit_id=visit_id)
        known = {photo.id for photo in visits.photos_of(ctx(), visit_ids=[visit.id])[visit.id]}
        photos = visits.add_photos(
            ctx(),
            actor=current_actor(),
            visit=visit,
            photos=[f.read() for f in files["photos"]],
        )
        new = [photo for photo in photos if photo.id not in known]
        if not new:
            return photos, 200
        location = url_for("visits.VisitPhotoImage", visit_id=visit.id, photo_id=new[0].id)
        return photos, 201, {"Location": location}


@blp.route("/visits/<uuid:visit_id>/photos/<uuid:photo_id>/image")
class VisitPhotoImage(MethodView):
    @staff_only(*REVIEWERS)
    @answers(404)
    @db.transaction
    @blp.arguments(VisitPhotoViewQuerySchema, location="query")
    @blp.response(200, content_type="image/jpeg", description="The decrypted photo; the view is audited")
    def get(self, query: dict, visit_id: uuid.UUID, photo_id: uuid.UUID):
        """View a visit photo, stating why; every view is kept in the audit log."""
        visit = visits.get_visit(ctx(), actor=current_actor(), visit_id=visit_id)
        data, mimetype = visits.read_photo(
            ctx(),
            actor=current_actor(),
            visit=visit,
            photo_id=photo_id,
            reason=query["reason"],
        )
        return Response(data, mimetype=mimetype, headers={"Cache-Control": "no-store"})


@blp.route("/beneficiaries/<uuid:beneficiary_id>/visits")
class BeneficiaryVisits(MethodView):
    @staff_only()
    @answers(404)
    @db.transaction
    @blp.response(200, VisitSchema(many=True))
    @blp.paginate()
    def get(self, beneficiary_id: uuid.UUID, pagination_parameters: Paging):
        """A person's visit history, visits to their household included, newest first."""
        items, total = visits.beneficiary_visits(
            ctx(),
            actor=current_actor(),
            beneficiary_id=beneficiary_id,
            page=pagination_parameters.rows,
        )
        items = pagination_parameters.page_of(items, total)
        return visits.shown_to(ctx(), actor=current_actor(), visits=items)
