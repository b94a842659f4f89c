"""Payment runs per period and region, exported as CSV or XLSX."""

from __future__ import annotations

import uuid

from flask import Response, jsonify
from flask.views import MethodView

from server import db
from server.api.access import ctx, current_actor, staff_only
from server.api.errors import answers
from server.api.jobs import start
from server.api.paging import Blueprint
from server.models import StaffRole
from server.schemas.job import JobSchema
from server.schemas.payment import (
    ExportQuerySchema,
    PaymentRunQuerySchema,
    PaymentRunRequestSchema,
    PaymentRunSchema,
    RecoveryQuerySchema,
    RecoverySchema,
)
from server.services import payments, recoveries

blp = Blueprint("payments", __name__, url_prefix="/api/v1", description="Payment runs")
REVIEWERS = (StaffRole.ADMIN, StaffRole.SUPERVISOR)


@blp.route("/payment-runs")
class PaymentRuns(MethodView):
    @staff_only(*REVIEWERS)
    @blp.arguments(PaymentRunQuerySchema, location="query")
    @blp.response(200, PaymentRunSchema(many=True))
    def get(self, query: dict):
        """Runs in your region, newest period first."""
        return payments.list_runs(ctx(), actor=current_actor(), period=query.get("period"))

    @staff_only(*REVIEWERS)
    @answers(409)
    @blp.arguments(PaymentRunRequestSchema)
    @blp.response(202, JobSchema)
    @blp.alt_response(200, schema=PaymentRunSchema, description="The run for this period and region already exists")
    def post(self, body: dict):
        """Build the run for a period (YYYY-MM) and region: 202 with the build's job (poll
        `GET /api/v1/jobs/{id}`; its `result_url` answers the run, a PaymentRun, once done). Once built a run
        stands: asking again answers it with 200. 409 `overlapping_run` if a run for the period covers part
        of the region; 422 `unknown_region` for a region outside your scope."""
        context, actor = ctx(), current_actor()
        period, region_code = body["period"], body["region"]
        with db.unit_of_work(context.session):
            existing = payments.check_build(context, actor=actor, period=period, region_code=region_code)
        if existing is not None:
            # A Response of its own: the 202's schema is the job's.
            return jsonify(PaymentRunSchema().dump(existing))
        return start(actor, payments.BUILD, b"", {"period": period, "region": region_code})


@blp.route("/payment-runs/recoveries")
class PaymentRecoveries(MethodView):
    @staff_only(*REVIEWERS)
    @answers(422)
    @db.transaction
    @blp.arguments(RecoveryQuerySchema, location="query")
    @blp.response(200, RecoverySchema(many=True))
    @blp.alt_response(200, description="format=csv: one row per person, the total last", content_type="text/csv")
    def get(self, query: dict):
        """Money to recover in a region: everyone paid for months after their assistance ended (a death or any
        termination), which months, in which runs, how much. The CSV export is audited."""
        region_code = query["region"]
        items = recoveries.recoveries(ctx(), actor=current_actor(), region_code=region_code)
        if query["format"] == "json":
            return items
        content = recoveries.recoveries_csv(ctx(), actor=current_actor(), region_code=region_code, items=items)
        return Response(
            content,
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="recoveries-{region_code}.csv"'},
        )


@blp.route("/payment-runs/<uuid:run_id>")
class PaymentRunById(MethodView):
    @staff_only(*REVIEWERS)
    @answers(404)
    @blp.response(200, PaymentRunSchema)
    def get(self, run_id: uuid.UUID):
        """One run with its totals."""
        return payments.get_run(ctx(), actor=current_actor(), run_id=run_id)


@blp.route("/payment-runs/<uuid:run_id>/export")
class PaymentRunExport(MethodView):
    @staff_only(*REVIEWERS)
    @answers(404)
    @db.transaction
    @blp.arguments(ExportQuerySchema, location="query")
    @blp.response(200, description="CSV (UTF-8 with BOM) or XLSX: one row per person, then totals per category")
    def get(self, query: dict, run_id: uuid.UUID):
        """Export the run (masked ID numbers only); every export is audited."""
        context = ctx()
        run = payments.get_run(context, actor=current_actor(), run_id=run_id)
        content, media_type, filename = payments.export(context, actor=current_actor(), run=run, fmt=query["format"])
        # Sent as the lines are read, after the view's unit (the audit entry) has committed.
        return Response(
            db.streamed(context.session, content),
            mimetype=media_type,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
