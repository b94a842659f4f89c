"""Reports offices send upward."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from server import db
from server.api.access import ctx, current_actor, staff_only
from server.api.paging import Blueprint
from server.models import StaffRole
from server.schemas.report import CoverageQuerySchema, CoverageSchema
from server.services import coverage

blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="Coverage reports")


@blp.route("/reports/coverage")
class Coverage(MethodView):
    @staff_only(StaffRole.ADMIN, StaffRole.SUPERVISOR)
    @db.transaction
    @blp.arguments(CoverageQuerySchema, location="query")
    @blp.response(200, CoverageSchema)
    @blp.alt_response(200, description="format=csv: the same rows as CSV, the total last", content_type="text/csv")
    def get(self, query: dict):
        """Enrolment, check-in and verification rates, open cases, suspensions and reinstatements, per child region
        of `region` and in total, for the days `from` to `to`."""
        actor = current_actor()
        first, last = query["from_"], query["to"]
        rows, total = coverage.coverage(ctx(), actor=actor, region_code=query["region"], first=first, last=last)
        if query["format"] == "csv":
            content = coverage.coverage_csv(ctx(), actor=actor, rows=rows, total=total, first=first, last=last)
            filename = f"coverage-{query['region']}-{first.isoformat()}-{last.isoformat()}.csv"
            return Response(
                content, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
            )
        return {
            "region": query["region"],
            "from_": first,
            "to": last,
            "rows": [row.as_dict() for row in rows],
            "total": total.as_dict(),
        }
