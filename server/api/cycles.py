"""Check-in cycles, where each stands, and what satisfies one besides a check-in: exemptions and evidence."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from server import db
from server.api.access import authenticated, ctx, current_actor, settings, staff_only
from server.api.errors import answers
from server.api.jobs import start as start_job
from server.api.paging import Blueprint
from server.models import StaffRole
from server.schemas.cycle import (
    BeneficiaryCycleSchema,
    CycleCreateSchema,
    CycleSchema,
    CycleStatusSchema,
    EvidenceUploadSchema,
    ExemptionCreateSchema,
    ExemptionSchema,
    NotificationSchema,
)
from server.schemas.job import JobSchema
from server.services import beneficiaries, cycles, exemptions, imports, reminders

blp = Blueprint(
    "cycles", __name__, url_prefix="/api/v1", description="Check-in cycles, exemptions, imported evidence, reminders"
)
MANAGERS = (StaffRole.ADMIN, StaffRole.SUPERVISOR)


def _zone():
    return cycles.office_zone(settings())


@blp.route("/cycles")
class Cycles(MethodView):
    @staff_only(*MANAGERS)
    @blp.response(200, CycleSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Cycles inside your region and those that contain it, latest first."""
        items, total = cycles.list_cycles(
            ctx(),
            actor=current_actor(),
            page=pagination_parameters.rows,
        )
        items = pagination_parameters.page_of(items, total)
        return items

    @staff_only(*MANAGERS)
    @answers(409)
    @db.transaction
    @blp.arguments(CycleCreateSchema)
    @blp.response(201, CycleSchema)
    def post(self, body: dict):
        """Open a check-in cycle for a region of yours (and a programme, or all); it may not overlap another."""
        cycle = cycles.create_cycle(
            ctx(),
            actor=current_actor(),
            region_code=body["region_code"],
            program=body["program"],
            frequency=body["frequency"],
            opens_on=body["opens_on"],
            deadline=body["deadline"],
            grace_days=body.get("grace_days", settings().cycles.grace_days),
            today=cycles.local_today(_zone()),
        )
        return cycle


@blp.route("/cycles/<uuid:cycle_id>/status")
class CycleStatus(MethodView):
    @staff_only(*MANAGERS)
    @answers(404)
    @blp.response(200, CycleStatusSchema)
    def get(self, cycle_id: uuid.UUID):
        """How many people in your part of the cycle are due, satisfied (by each kind of proof) and not."""
        cycle = cycles.get_cycle(ctx(), actor=current_actor(), cycle_id=cycle_id)
        return cycles.status(ctx(), actor=current_actor(), cycle=cycle, zone=_zone())


@blp.route("/cycles/<uuid:cycle_id>/evidence")
class EvidenceImport(MethodView):
    @staff_only(*MANAGERS)
    # No @db.transaction: the job commits before the worker is told (see api.jobs.start).
    @answers(404, 413)
    @blp.arguments(EvidenceUploadSchema, location="files")
    @blp.response(202, JobSchema)
    def post(self, files: dict, cycle_id: uuid.UUID):
        """Import proof of life from another source for this cycle as a job (poll `GET /jobs/{id}`); each
        row is reported, a repeated row is a no-op."""
        cycle = cycles.get_cycle(ctx(), actor=current_actor(), cycle_id=cycle_id)
        return start_job(current_actor(), imports.EVIDENCE, files["file"].read(), {"cycle_id": str(cycle.id)})


@blp.route("/beneficiaries/<uuid:beneficiary_id>/cycles")
class BeneficiaryCycles(MethodView):
    @authenticated
    @answers(403, 404)
    @blp.response(200, BeneficiaryCycleSchema(many=True))
    def get(self, beneficiary_id: uuid.UUID):
        """The person's latest cycles: due or not, satisfied or not, and by what. A device sees its own person's."""
        beneficiary = beneficiaries.get_beneficiary(ctx(), actor=current_actor(), beneficiary_id=beneficiary_id)
        return cycles.beneficiary_cycles(ctx(), beneficiary=beneficiary, zone=_zone())


@blp.route("/beneficiaries/<uuid:beneficiary_id>/exemptions")
class Exemptions(MethodView):
    @staff_only()
    @answers(404)
    @blp.response(200, ExemptionSchema(many=True))
    def get(self, beneficiary_id: uuid.UUID):
        """The person's exemptions, latest first."""
        beneficiary = beneficiaries.get_beneficiary(ctx(), actor=current_actor(), beneficiary_id=beneficiary_id)
        return exemptions.list_exemptions(ctx(), beneficiary=beneficiary)

    @staff_only(*MANAGERS)
    @answers(404, 409)
    @db.transaction
    @blp.arguments(ExemptionCreateSchema)
    @blp.response(201, ExemptionSchema)
    def post(self, body: dict, beneficiary_id: uuid.UUID):
        """Approve an exemption (institution care, hospitalisation, work absence of 3-12 months)."""
        beneficiary = beneficiaries.get_beneficiary(ctx(), actor=current_actor(), beneficiary_id=beneficiary_id)
        exemption = exemptions.grant_exemption(ctx(), actor=current_actor(), beneficiary=beneficiary, **body)
        return exemption


@blp.route("/beneficiaries/<uuid:beneficiary_id>/notifications")
class Notifications(MethodView):
    @staff_only()
    @answers(404)
    @blp.response(200, NotificationSchema(many=True))
    def get(self, beneficiary_id: uuid.UUID):
        """Reminders queued and sent to the person, latest first."""
        beneficiary = beneficiaries.get_beneficiary(ctx(), actor=current_actor(), beneficiary_id=beneficiary_id)
        return reminders.list_notifications(ctx(), beneficiary=beneficiary)
