"""The beneficiary's phone: the consent it shows, its home screen, and the activation QR code staff print."""

from __future__ import annotations

from flask import Response, request
from flask.views import MethodView

from server import db
from server.api.access import authenticated, ctx, current_actor, staff_only
from server.api.errors import answers
from server.api.paging import Blueprint
from server.schemas.auth import ActivationLinkRequestSchema, ConsentTextSchema
from server.schemas.phone import ConsentWithdrawnSchema, MyDataSchema, PhoneHomeSchema
from server.services import activation_links, consent, phone_home
from server.services.errors import Forbidden

blp = Blueprint("phone", __name__, url_prefix="/api/v1", description="The beneficiary's phone app")
PUBLIC = [{}]


@blp.route("/consent/biometric")
class ConsentText(MethodView):
    @blp.doc(security=PUBLIC)
    @blp.response(200, ConsentTextSchema)
    def get(self):
        """The biometric consent a phone shows before activation; activation names the version agreed to."""
        return consent.current_text()


@blp.route("/me/home")
class PhoneHome(MethodView):
    @authenticated
    @blp.response(200, PhoneHomeSchema)
    def get(self):
        """For a beneficiary's phone: covered until or due by, lockout, this phone's check-ins and the notices."""
        actor = current_actor()
        if actor.kind != "device":
            raise Forbidden("only a beneficiary's phone has a home screen", {"authorization": ["device_only"]})
        return phone_home.home(ctx(), actor=actor)


def _device_actor():
    actor = current_actor()
    if actor.kind != "device":
        raise Forbidden("only a beneficiary's phone asks for its person's own data", {"authorization": ["device_only"]})
    return actor


@blp.route("/me/data")
class MyData(MethodView):
    @authenticated
    @answers(403)
    @blp.response(200, MyDataSchema)
    @db.transaction
    def get(self):
        """For a beneficiary's phone: everything FieldCheck holds about its person (PIPL art. 45); audited."""
        return phone_home.my_data(ctx(), actor=_device_actor())


@blp.route("/me/consent/withdrawal")
class ConsentWithdrawal(MethodView):
    @authenticated
    @answers(403)
    @blp.response(200, ConsentWithdrawnSchema)
    @db.transaction
    def post(self):
        """Withdraw consent to face processing: the person's phones can no longer check in, and a supervisor
        is asked (a consent_withdrawn case) to switch them to a home visit or an in-person check-in."""
        return phone_home.withdraw_consent(ctx(), actor=_device_actor())


@blp.route("/devices/activation-qr")
class ActivationQr(MethodView):
    @staff_only()
    @answers(404)
    @blp.arguments(ActivationLinkRequestSchema)
    @blp.response(200, description="The activation link as a QR code (SVG or PNG)")
    def post(self, body: dict):
        """A QR code of the activation link for a code you issued (POSTed, so the code stays out of URLs)."""
        content, media_type = activation_links.qr_for_code(
            ctx(), actor=current_actor(), code=body["code"], base_url=request.url_root, fmt=body["format"]
        )
        return Response(content, mimetype=media_type, headers={"Cache-Control": "no-store"})
