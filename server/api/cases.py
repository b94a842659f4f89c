"""The supervisors' review queue: cases, their decisions (four eyes for suspension and termination), visit tasks."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from server import db
from server.api.access import ctx, current_actor, staff_only
from server.api.errors import answers
from server.api.paging import Blueprint, Paging
from server.models import ReviewCase, StaffRole
from server.schemas.case import (
    ApprovalSchema,
    CaseAssignSchema,
    CaseQuerySchema,
    CaseSchema,
    DecisionRequestSchema,
    DecisionSchema,
    RejectionSchema,
    VisitTaskQuerySchema,
    VisitTaskSchema,
)
from server.services import cases, decisions, visit_tasks

blp = Blueprint("cases", __name__, url_prefix="/api/v1", description="Review cases: the supervisors' queue")
REVIEWERS = (StaffRole.ADMIN, StaffRole.SUPERVISOR)


def _etag(case: ReviewCase) -> dict:
    return {"id": str(case.id), "version": case.version}


@blp.route("/cases")
class Cases(MethodView):
    @staff_only(*REVIEWERS)
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.response(200, CaseSchema(many=True))
    @blp.paginate(order_by=cases.LIST_ORDER)
    def get(self, query: dict, pagination_parameters: Paging):
        """Cases in your region, soonest due first; filter by kind, state, assignee, region, due date."""
        items, total = cases.list_cases(
            ctx(),
            actor=current_actor(),
            filters=cases.CaseFilters(**query),
            page=pagination_parameters.rows,
        )
        return pagination_parameters.page_of(items, total)


@blp.route("/cases/<uuid:case_id>")
class CaseById(MethodView):
    @staff_only(*REVIEWERS)
    @answers(404)
    @blp.etag
    @blp.response(200, CaseSchema)
    def get(self, case_id: uuid.UUID):
        """One case with its evidence."""
        case = cases.get_case(ctx(), actor=current_actor(), case_id=case_id)
        blp.set_etag(_etag(case))
        return case

    @staff_only(*REVIEWERS)
    @answers(404, 409)
    @db.transaction
    @blp.etag
    @blp.arguments(CaseAssignSchema)
    @blp.response(200, CaseSchema)
    def patch(self, body: dict, case_id: uuid.UUID):
        """Assign the case; If-Match must carry the ETag you read (412 if the case changed since)."""
        case = cases.get_case(ctx(), actor=current_actor(), case_id=case_id)
        blp.check_etag(_etag(case))
        decisions.assign(ctx(), actor=current_actor(), case=case, assigned_to=body["assigned_to"])
        # Written now, so a concurrent change answers 412 before the new ETag is set.
        db.session().flush()
        blp.set_etag(_etag(case))
        return case


@blp.route("/cases/<uuid:case_id>/decisions")
class CaseDecisions(MethodView):
    @staff_only(*REVIEWERS)
    @answers(404)
    @blp.response(200, DecisionSchema(many=True))
    def get(self, case_id: uuid.UUID):
        """Every decision on the case, oldest first: the history is never overwritten."""
        return decisions.list_decisions(ctx(), case=cases.get_case(ctx(), actor=current_actor(), case_id=case_id))

    @staff_only(*REVIEWERS)
    @answers(404, 409)
    @db.transaction
    @blp.arguments(DecisionRequestSchema)
    @blp.response(201, DecisionSchema)
    def post(self, body: dict, case_id: uuid.UUID):
        """Decide: extend, exempt, order_visit and dismiss apply at once; suspend and terminate are proposals
        that another supervisor or admin must approve. 409 `invalid_transition` lists the allowed decisions."""
        case = cases.get_case(ctx(), actor=current_actor(), case_id=case_id)
        row = decisions.decide(
            ctx(),
            actor=current_actor(),
            case=case,
            decision=body.pop("decision"),
            reason=body.pop("reason"),
            params=body,
        )
        return row


@blp.route("/cases/<uuid:case_id>/decisions/<uuid:decision_id>/approve")
class ApproveDecision(MethodView):
    @staff_only(*REVIEWERS)
    @answers(404, 409)
    @db.transaction
    @blp.arguments(ApprovalSchema)
    @blp.response(200, DecisionSchema)
    def post(self, body: dict, case_id: uuid.UUID, decision_id: uuid.UUID):
        """Approve a proposal (not your own: 403 `four_eyes_required`); it takes effect now, with a notice."""
        case = cases.get_case(ctx(), actor=current_actor(), case_id=case_id)
        row = decisions.approve(ctx(), actor=current_actor(), case=case, decision_id=decision_id, reason=body["reason"])
        return row


@blp.route("/cases/<uuid:case_id>/decisions/<uuid:decision_id>/reject")
class RejectDecision(MethodView):
    @staff_only(*REVIEWERS)
    @answers(404, 409)
    @db.transaction
    @blp.arguments(RejectionSchema)
    @blp.response(200, DecisionSchema)
    def post(self, body: dict, case_id: uuid.UUID, decision_id: uuid.UUID):
        """Reject a proposal (or withdraw your own); the case stays as it was."""
        case = cases.get_case(ctx(), actor=current_actor(), case_id=case_id)
        row = decisions.reject(ctx(), actor=current_actor(), case=case, decision_id=decision_id, reason=body["reason"])
        return row


@blp.route("/visit-tasks")
class VisitTasks(MethodView):
    @staff_only()
    @blp.arguments(VisitTaskQuerySchema, location="query")
    @blp.response(200, VisitTaskSchema(many=True))
    @blp.paginate(order_by=visit_tasks.LIST_ORDER)
    def get(self, query: dict, pagination_parameters: Paging):
        """A field worker's own visit tasks (supervisors: all in their region), soonest due first."""
        items, total = visit_tasks.list_tasks(
            ctx(),
            actor=current_actor(),
            state=query.get("state"),
            page=pagination_parameters.rows,
        )
        return pagination_parameters.page_of(items, total)
