"""The beneficiary registry."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import request
from flask.views import MethodView

from server import db
from server.api.access import authenticated, ctx, current_actor, staff_only
from server.api.errors import answers
from server.api.jobs import start as start_job
from server.api.paging import Blueprint, Paging
from server.models import Beneficiary, StaffRole
from server.schemas.auth import DeviceCodeRequestSchema, DeviceCodeSchema, DeviceSchema
from server.schemas.beneficiary import (
    BeneficiaryCreateSchema,
    BeneficiaryQuerySchema,
    BeneficiarySchema,
    BeneficiarySearchSchema,
    BeneficiarySummarySchema,
    BeneficiaryUpdateSchema,
    RosterUploadSchema,
)
from server.schemas.common import ReasonSchema
from server.schemas.job import JobSchema
from server.services import activation_links, auth, beneficiaries, imports
from server.services.audit import record

blp = Blueprint("beneficiaries", __name__, url_prefix="/api/v1", description="The beneficiary registry")
REGISTRARS = (StaffRole.ADMIN, StaffRole.SUPERVISOR)


def _etag(beneficiary: Beneficiary) -> dict:
    # Built from the row version, not the body, so the ETag says nothing about identity data.
    return {"id": str(beneficiary.id), "version": beneficiary.version}


def _viewed(beneficiary: Beneficiary) -> Beneficiary:
    """Record that the caller saw this person's contact details, then hand the row back."""
    session = db.session()
    record(
        session,
        actor=current_actor(),
        action="beneficiary.viewed",
        object_type="beneficiary",
        object_id=beneficiary.id,
        region_code=beneficiary.village_code,
    )
    return beneficiary


@blp.route("/beneficiaries")
class Beneficiaries(MethodView):
    @staff_only()
    @blp.arguments(BeneficiaryQuerySchema, location="query")
    @blp.response(200, BeneficiarySummarySchema(many=True))
    @blp.paginate(order_by=beneficiaries.LIST_ORDER)
    def get(self, query: dict, pagination_parameters: Paging):
        """List beneficiaries in your region, filtered, a page at a time (no contact details). To find one by
        resident ID number, POST /beneficiaries/search: the number must not travel in a URL."""
        return _page(beneficiaries.list_beneficiaries, query, pagination_parameters)

    @staff_only(*REGISTRARS)
    @answers(409)
    @db.transaction
    @blp.etag
    @blp.arguments(BeneficiaryCreateSchema)
    @blp.response(201, BeneficiarySchema)
    def post(self, body: dict):
        """Register a beneficiary in a village of your region.

        An ID number already registered in your region answers 422 `already_registered`. One registered in
        another region is registered like any new one (the answer says nothing about other regions) and the
        county reviews it: a person who moved, or a registration refused.
        """
        beneficiary = beneficiaries.create_beneficiary(ctx(), actor=current_actor(), data=body)
        blp.set_etag(_etag(beneficiary))
        return beneficiary


@blp.route("/beneficiaries/search")
class BeneficiarySearch(MethodView):
    @staff_only()
    @db.transaction
    @blp.arguments(BeneficiarySearchSchema)
    @blp.response(200, BeneficiarySummarySchema(many=True))
    @blp.paginate(order_by=beneficiaries.LIST_ORDER)
    def post(self, body: dict, pagination_parameters: Paging):
        """Find beneficiaries in your region by resident ID number (with the list's other filters if you like),
        a page at a time. The number is in the body, so no browser history or proxy log keeps it. Each
        lookup is audited (`beneficiary.looked_up`, naming whom it found, not the number)."""
        return _page(beneficiaries.look_up_by_id_number, body, pagination_parameters)


def _page(service: Callable[..., tuple[list[Beneficiary], int | None]], filters: dict, paging: Paging):
    """One page of what the list service (or the lookup) finds for the request's filters."""
    items, total = service(
        ctx(),
        actor=current_actor(),
        filters=beneficiaries.ListFilters(**{k: getattr(v, "value", v) for k, v in filters.items()}),
        page=paging.rows,
    )
    return paging.page_of(items, total)


@blp.route("/beneficiaries/<uuid:beneficiary_id>")
class BeneficiaryById(MethodView):
    @authenticated
    @answers(404)
    @db.transaction
    @blp.etag
    @blp.response(200, BeneficiarySchema)
    def get(self, beneficiary_id: uuid.UUID):
        """One beneficiary with contact details; the read is audited. A device may read only its own person."""
        beneficiary = beneficiaries.get_beneficiary(ctx(), actor=current_actor(), beneficiary_id=beneficiary_id)
        blp.set_etag(_etag(beneficiary))
        return _viewed(beneficiary)

    @staff_only(*REGISTRARS)
    @answers(404, 409)
    @db.transaction
    @blp.etag
    @blp.arguments(BeneficiaryUpdateSchema)
    @blp.response(200, BeneficiarySchema)
    def patch(self, body: dict, beneficiary_id: uuid.UUID):
        """Change fields; If-Match must carry the ETag you read (412 if someone changed it since)."""
        session = db.session()
        beneficiary = beneficiaries.get_beneficiary(ctx(), actor=current_actor(), beneficiary_id=beneficiary_id)
        blp.check_etag(_etag(beneficiary))
        reason = body.pop("reason", None)
        beneficiaries.update_beneficiary(
            ctx(), actor=current_actor(), beneficiary=beneficiary, changes=body, reason=reason
        )
        # Written now, so a concurrent edit answers 412 before the new ETag is set.
        session.flush()
        blp.set_etag(_etag(beneficiary))
        return beneficiary


@blp.route("/beneficiaries/import")
class RosterImport(MethodView):
    @staff_only(*REGISTRARS)
    @answers(413)
    @blp.arguments(RosterUploadSchema, location="files")
    @blp.response(202, JobSchema)
    def post(self, files: dict):
        """Import a roster CSV as a job: poll `GET /jobs/{id}` (the `Location`), then read its report at
        `result_url`; each row is reported on its own and a row already imported changes nothing. A file
        with a wrong header is refused at once (422)."""
        return start_job(current_actor(), imports.ROSTER, files["file"].read())


@blp.route("/beneficiaries/<uuid:beneficiary_id>/devices")
class DeviceCodes(MethodView):
    @staff_only()
    @answers(404)
    @db.transaction
    @blp.arguments(DeviceCodeRequestSchema)
    @blp.response(201, DeviceCodeSchema)
    def post(self, body: dict, beneficiary_id: uuid.UUID):
        """Issue a one-time activation code and its link for the person's phone; earlier devices stop working.

        If the person already has a phone (or an unused code), the change is audited and the region's
        supervisors get a notice (`GET /staff-notifications`)."""
        beneficiary = beneficiaries.get_beneficiary(ctx(), actor=current_actor(), beneficiary_id=beneficiary_id)
        device, code = auth.issue_activation_code(
            ctx(), actor=current_actor(), beneficiary=beneficiary, label=body.get("label")
        )
        return {
            "device_id": device.id,
            "activation_code": code,
            "expires_at": device.activation_expires_at,
            "activation_url": activation_links.activation_url(request.url_root, code),
        }

    @staff_only()
    @answers(404)
    @blp.response(200, DeviceSchema(many=True))
    def get(self, beneficiary_id: uuid.UUID):
        """The person's phones and codes, revoked ones included."""
        beneficiaries.get_beneficiary(ctx(), actor=current_actor(), beneficiary_id=beneficiary_id)
        return auth.devices_of(ctx(), beneficiary_id=beneficiary_id)


@blp.route("/beneficiaries/<uuid:beneficiary_id>/devices/<uuid:device_id>/revoke")
class DeviceRevocation(MethodView):
    @staff_only()
    @answers(404)
    @db.transaction
    @blp.arguments(ReasonSchema)
    @blp.response(200, DeviceSchema)
    def post(self, body: dict, beneficiary_id: uuid.UUID, device_id: uuid.UUID):
        """Revoke a phone (lost, sold, issued by mistake): its token stops working at once; audited."""
        context = ctx()
        beneficiary = beneficiaries.get_beneficiary(context, actor=current_actor(), beneficiary_id=beneficiary_id)
        device = auth.get_device(context, beneficiary=beneficiary, device_id=device_id)
        auth.revoke_device(
            context, actor=current_actor(), device=device, beneficiary=beneficiary, reason=body["reason"]
        )
        return device
