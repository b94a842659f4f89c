"""The supervisors' review queue."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from server import db
from server.api.access import current_actor, staff_only
from server.models import StaffRole
from server.schemas.case import CaseQuerySchema, CaseSchema
from server.services import cases

blp = Blueprint("cases", __name__, url_prefix="/api/v1", description="Review cases: the supervisors' queue")
REVIEWERS = (StaffRole.ADMIN, StaffRole.SUPERVISOR)


@blp.route("/cases")
class Cases(MethodView):
    @staff_only(*REVIEWERS)
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.response(200, CaseSchema(many=True))
    @blp.paginate()
    def get(self, query: dict, pagination_parameters):
        """Cases in your region, soonest due first."""
        items, total = cases.list_cases(
            db.session(),
            actor=current_actor(),
            kind=query.get("kind"),
            state=query.get("state"),
            beneficiary_id=query.get("beneficiary_id"),
            offset=pagination_parameters.first_item,
            limit=pagination_parameters.page_size,
        )
        pagination_parameters.item_count = total
        return items


@blp.route("/cases/<uuid:case_id>")
class CaseById(MethodView):
    @staff_only(*REVIEWERS)
    @blp.response(200, CaseSchema)
    def get(self, case_id: uuid.UUID):
        """One case with its evidence."""
        return cases.get_case(db.session(), actor=current_actor(), case_id=case_id)
