"""Suspensions of payment with their notices, appeals, and reinstatement with arrears."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from server import db
from server.api.access import ctx, current_actor, staff_only
from server.api.errors import answers
from server.api.paging import Blueprint
from server.models import StaffRole, Suspension
from server.schemas.common import ReasonSchema
from server.schemas.suspension import ReinstateSchema, SuspensionQuerySchema, SuspensionSchema
from server.services import suspensions
from server.services.beneficiaries import get_beneficiary

blp = Blueprint("suspensions", __name__, url_prefix="/api/v1", description="Suspensions, appeals, reinstatement")
REVIEWERS = (StaffRole.ADMIN, StaffRole.SUPERVISOR)


def _with_notices(suspension: Suspension) -> dict:
    return {
        **{column.key: getattr(suspension, column.key) for column in Suspension.__table__.columns},
        "notices": suspensions.notices_of(ctx(), suspension=suspension),
    }


@blp.route("/suspensions")
class Suspensions(MethodView):
    @staff_only(*REVIEWERS)
    @blp.arguments(SuspensionQuerySchema, location="query")
    @blp.response(200, SuspensionSchema(many=True))
    def get(self, query: dict):
        """Suspensions in your region, newest first, with their notices."""
        found = suspensions.list_suspensions(
            ctx(),
            actor=current_actor(),
            beneficiary_id=query.get("beneficiary_id"),
            ongoing=query.get("ongoing"),
        )
        return [_with_notices(s) for s in found]


@blp.route("/suspensions/<uuid:suspension_id>")
class SuspensionById(MethodView):
    @staff_only(*REVIEWERS)
    @answers(404)
    @blp.response(200, SuspensionSchema)
    def get(self, suspension_id: uuid.UUID):
        """One suspension with its notices (what, why, how to appeal, by when)."""
        return _with_notices(suspensions.get_suspension(ctx(), actor=current_actor(), suspension_id=suspension_id))


@blp.route("/suspensions/<uuid:suspension_id>/appeal")
class Appeal(MethodView):
    @staff_only(*REVIEWERS)
    @answers(404, 409)
    @db.transaction
    @blp.arguments(ReasonSchema)
    @blp.response(200, SuspensionSchema)
    def post(self, body: dict, suspension_id: uuid.UUID):
        """Record an appeal received before the notice's deadline: the case opens again, due in three working days.
        Payment stays withheld until a person reinstates."""
        suspension = suspensions.get_suspension(ctx(), actor=current_actor(), suspension_id=suspension_id)
        suspensions.appeal(ctx(), actor=current_actor(), suspension=suspension, reason=body["reason"])
        return _with_notices(suspension)


@blp.route("/beneficiaries/<uuid:beneficiary_id>/reinstate")
class Reinstate(MethodView):
    @staff_only(*REVIEWERS)
    @answers(404, 409)
    @db.transaction
    @blp.arguments(ReinstateSchema)
    @blp.response(200, SuspensionSchema)
    def post(self, body: dict, beneficiary_id: uuid.UUID):
        """Reinstate a suspended beneficiary who has had a verified check-in since the suspension took effect
        (409 `no_proof_of_life` otherwise); the arrears are recorded for the next payment run."""
        beneficiary = get_beneficiary(ctx(), actor=current_actor(), beneficiary_id=beneficiary_id)
        suspension = suspensions.reinstate(
            ctx(),
            actor=current_actor(),
            beneficiary=beneficiary,
            reason=body["reason"],
            reinstated_on=body["reinstated_on"],
        )
        return _with_notices(suspension)
