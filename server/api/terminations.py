"""Terminations with their notices and appeals, and the disputed death records to send back to their sources."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from flask import Response
from flask.views import MethodView

from server import db
from server.api.access import ctx, current_actor, staff_only
from server.api.errors import answers
from server.api.paging import Blueprint
from server.models import StaffRole, Termination
from server.schemas.common import ReasonSchema
from server.schemas.termination import (
    DisputedQuerySchema,
    DisputedReportSchema,
    TerminationQuerySchema,
    TerminationSchema,
)
from server.services import terminations

blp = Blueprint(
    "terminations", __name__, url_prefix="/api/v1", description="Terminations, appeals, disputed death records"
)
REVIEWERS = (StaffRole.ADMIN, StaffRole.SUPERVISOR)


def _with_notices(termination: Termination) -> dict:
    return {
        **{column.key: getattr(termination, column.key) for column in Termination.__table__.columns},
        "notices": terminations.notices_of(ctx(), termination=termination),
    }


@blp.route("/terminations")
class Terminations(MethodView):
    @staff_only(*REVIEWERS)
    @blp.arguments(TerminationQuerySchema, location="query")
    @blp.response(200, TerminationSchema(many=True))
    def get(self, query: dict):
        """Terminations in your region, newest first, with their notices."""
        found = terminations.list_terminations(ctx(), actor=current_actor(), beneficiary_id=query.get("beneficiary_id"))
        return [_with_notices(t) for t in found]


@blp.route("/terminations/<uuid:termination_id>")
class TerminationById(MethodView):
    @staff_only(*REVIEWERS)
    @answers(404)
    @blp.response(200, TerminationSchema)
    def get(self, termination_id: uuid.UUID):
        """One termination with its notices (what ends and from when, why, the evidence, how to appeal, by when)."""
        return _with_notices(terminations.get_termination(ctx(), actor=current_actor(), termination_id=termination_id))


@blp.route("/terminations/<uuid:termination_id>/appeal")
class Appeal(MethodView):
    @staff_only(*REVIEWERS)
    @answers(404, 409)
    @db.transaction
    @blp.arguments(ReasonSchema)
    @blp.response(200, TerminationSchema)
    def post(self, body: dict, termination_id: uuid.UUID):
        """Record an appeal: the case opens again, due in three working days, and the person may check in to prove
        being alive; a `restore` decision (four eyes) then undoes the termination. A late appeal is recorded too."""
        termination = terminations.get_termination(ctx(), actor=current_actor(), termination_id=termination_id)
        terminations.appeal(ctx(), actor=current_actor(), termination=termination, reason=body["reason"])
        return _with_notices(termination)


@blp.route("/death-records/disputed")
class DisputedDeathRecords(MethodView):
    @staff_only(*REVIEWERS)
    @blp.arguments(DisputedQuerySchema, location="query")
    @blp.response(200, DisputedReportSchema)
    @blp.alt_response(200, description="format=csv: one row per record, by source", content_type="text/csv")
    def get(self, query: dict):
        """Death records shown wrong by a restored person's check-in, counted per source registry, so each source
        can correct its records upstream."""
        records = terminations.disputed_records(ctx(), actor=current_actor(), source=query.get("source"))
        if query["format"] == "csv":
            return Response(
                terminations.disputed_csv(records),
                mimetype="text/csv",
                headers={"Content-Disposition": 'attachment; filename="disputed-death-records.csv"'},
            )
        return {"sources": terminations.per_source(records), "records": [asdict(r) for r in records]}
