"""Home visits: records and batch sync from field workers' devices, photos, and the supervisors' views."""

from __future__ import annotations

import uuid

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError

from server import db
from server.api.access import current_actor, settings, staff_only
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
    return visits.views(db.session(), [visit])[0]


def _batch_item(raw: object) -> visits.BatchItem:
    """Load one sync item on its own, so a malformed item is reported instead of failing the batch."""
    client_id = raw.get("client_id") if isinstance(raw, dict) else None
    client_id = client_id if isinstance(client_id, str) else None
    schema = VisitSyncEditSchema() if isinstance(raw, dict) and "based_on_version" in raw else VisitCreateSchema()
    try:
        return visits.BatchItem(client_id, data=schema.load(raw))
    except ValidationError as exc:
        return visits.BatchItem(client_id, errors=_reasons(exc.normalized_messages()))


# Marshmallow's messages are for people; a device needs codes it can act on.
_MESSAGE_CODES = {"Missing data for required field.": "required", "Unknown field.": "unknown_field"}


def _reasons(messages: object, prefix: str = "") -> dict[str, list[str]]:
    """Flatten nested validation messages to {"gps.0.lat": ["invalid"]}."""
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = "_" if key == "_schema" else str(key)
            flat.update(_reasons(value, f"{prefix}.{name}" if prefix else name))
        return flat
    texts = messages if isinstance(messages, list) else [messages]
    return {prefix or "_": sorted({_MESSAGE_CODES.get(str(t), "invalid") for t in texts})}


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
    @blp.arguments(VisitCreateSchema)
    @blp.response(201, VisitSchema)
    @blp.alt_response(200, schema=VisitSchema, description="A resubmission: the visit already stored")
    def post(self, body: dict):
        """Record a home visit; sending the same client id again returns the stored visit and changes nothing."""
        session = db.session()
        result = visits.record_visit(
            session, settings(), actor=current_actor(), data=body, device_sent_at=body.get("device_sent_at")
        )
        if result.status == "rejected":
            raise result.as_error()
        return _view(result.visit), result.http_status

    @staff_only()
    @blp.arguments(VisitQuerySchema, location="query")
    @blp.response(200, VisitSchema(many=True))
    @blp.paginate()
    def get(self, query: dict, pagination_parameters):
        """Visits you may see (a worker: their own), newest first, by region, worker, period, outcome and flag."""
        session = db.session()
        items, total = visits.list_visits(
            session,
            actor=current_actor(),
            filters=query,
            offset=pagination_parameters.first_item,
            limit=pagination_parameters.page_size,
        )
        pagination_parameters.item_count = total
        return visits.shown_to(session, actor=current_actor(), visits=items)


@blp.route("/visits/sync")
class VisitSync(MethodView):
    @staff_only(*RECORDERS)
    @blp.arguments(VisitSyncSchema)
    @blp.response(200, SyncResponseSchema)
    def post(self, body: dict):
        """Sync a device's offline visits and edits: each item gets its own result, and sending the batch
        again gives the same visits. Items that carry based_on_version edit the visit with that client id."""
        session = db.session()
        visits.check_batch_size(settings(), len(body["visits"]))
        items = [_batch_item(raw) for raw in body["visits"]]
        results = visits.sync_batch(
            session, settings(), actor=current_actor(), items=items, device_sent_at=body.get("device_sent_at")
        )
        views = visits.views(session, [r.visit for r in results if r.visit is not None])
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
    @blp.response(200, RosterEntrySchema(many=True))
    def get(self):
        """The people of your region a phone keeps for a round offline: masked ID, home position, enrolment
        state, and covered, due or overdue now. The download is audited."""
        return visit_roster.roster(db.session(), settings(), actor=current_actor())


@blp.route("/visits/team-stats")
class TeamStats(MethodView):
    @staff_only(*REVIEWERS)
    @blp.arguments(TeamStatsQuerySchema, location="query")
    @blp.response(200, TeamStatSchema(many=True))
    def get(self, query: dict):
        """Per field worker in your region: visits in the period, flagged visits, flag rate and flags by kind."""
        return visits.team_stats(
            db.session(),
            actor=current_actor(),
            started_from=query.get("started_from"),
            started_to=query.get("started_to"),
            region_code=query.get("region_code"),
        )


@blp.route("/visits/<uuid:visit_id>")
class VisitById(MethodView):
    @staff_only()
    @blp.response(200, VisitSchema)
    def get(self, visit_id: uuid.UUID):
        """One visit with its flags, photos and linked check-ins."""
        session = db.session()
        visit = visits.get_visit(session, actor=current_actor(), visit_id=visit_id)
        return visits.shown_to(session, actor=current_actor(), visits=[visit])[0]

    @staff_only(*RECORDERS)
    @blp.arguments(VisitEditSchema)
    @blp.response(200, VisitSchema)
    def patch(self, body: dict, visit_id: uuid.UUID):
        """Edit your visit: based_on_version must be the version you edited, or 409 stale_version."""
        session = db.session()
        visit = visits.get_visit(session, actor=current_actor(), visit_id=visit_id)
        based_on = body.pop("based_on_version")
        visits.edit_visit(
            session, settings(), actor=current_actor(), visit=visit, based_on_version=based_on, changes=body
        )
        return _view(visit)


@blp.route("/visits/<uuid:visit_id>/photos")
class VisitPhotos(MethodView):
    @staff_only(*RECORDERS)
    @blp.arguments(VisitPhotoUploadSchema, location="files")
    @blp.response(200, VisitPhotoSchema(many=True))
    def post(self, files: dict, visit_id: uuid.UUID):
        """Add photos to your visit (multipart `photos`); a photo sent again is stored once; a bad one stores none."""
        session = db.session()
        visit = visits.get_visit(session, actor=current_actor(), visit_id=visit_id)
        return visits.add_photos(
            session,
            current_app.extensions["fieldcheck.store"],
            settings(),
            actor=current_actor(),
            visit=visit,
            photos=[f.read() for f in files["photos"]],
        )


@blp.route("/visits/<uuid:visit_id>/photos/<uuid:photo_id>/image")
class VisitPhotoImage(MethodView):
    @staff_only(*REVIEWERS)
    @blp.arguments(VisitPhotoViewQuerySchema, location="query")
    @blp.response(200, content_type="image/jpeg", description="The decrypted photo; the view is audited")
    def get(self, query: dict, visit_id: uuid.UUID, photo_id: uuid.UUID):
        """View a visit photo, stating why; every view is kept in the audit log."""
        session = db.session()
        visit = visits.get_visit(session, actor=current_actor(), visit_id=visit_id)
        data, mimetype = visits.read_photo(
            session,
            current_app.extensions["fieldcheck.store"],
            actor=current_actor(),
            visit=visit,
            photo_id=photo_id,
            reason=query["reason"],
        )
        return Response(data, mimetype=mimetype, headers={"Cache-Control": "no-store"})


@blp.route("/beneficiaries/<uuid:beneficiary_id>/visits")
class BeneficiaryVisits(MethodView):
    @staff_only()
    @blp.response(200, VisitSchema(many=True))
    @blp.paginate()
    def get(self, beneficiary_id: uuid.UUID, pagination_parameters):
        """A person's visit history, visits to their household included, newest first."""
        session = db.session()
        items, total = visits.beneficiary_visits(
            session,
            actor=current_actor(),
            beneficiary_id=beneficiary_id,
            offset=pagination_parameters.first_item,
            limit=pagination_parameters.page_size,
        )
        pagination_parameters.item_count = total
        return visits.shown_to(session, actor=current_actor(), visits=items)
