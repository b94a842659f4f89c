"""Logging in, activating a beneficiary's phone, and asking who you are."""

from __future__ import annotations

from flask import request
from flask.views import MethodView

from server import db
from server.api import throttle
from server.api.access import Unauthorized, authenticated, bearer_token, ctx, current_actor
from server.api.errors import answers
from server.api.paging import Blueprint
from server.schemas.auth import ActivationSchema, ActorSchema, LoginSchema, TokenSchema
from server.services import auth

blp = Blueprint("sessions", __name__, url_prefix="/api/v1", description="Tokens for staff and beneficiary devices")
PUBLIC = [{}]


@blp.route("/auth/token")
class StaffToken(MethodView):
    @throttle.per_account_and_address
    @answers(401, 422, 429)
    @blp.doc(security=PUBLIC)
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    def post(self, body: dict):
        """Staff login: username and password for a bearer token.

        Failed logins are audited and throttled per account and per address: past the limit even the
        right password answers 429 with `Retry-After`."""
        context = ctx()
        try:
            with db.unit_of_work(context.session):
                return auth.login(context, username=body["username"], password=body["password"])
        except auth.AuthError as exc:
            # The login's unit rolled back; the refusal is audited in one of its own.
            with db.unit_of_work(context.session):
                auth.record_failed_login(context, username=body["username"], address=request.remote_addr)
            raise Unauthorized("login failed", {"authorization": [exc.reason]}) from exc


@blp.route("/devices/activate")
class DeviceActivation(MethodView):
    @throttle.per_address
    @db.transaction
    @answers(401, 422, 429)
    @blp.doc(security=PUBLIC)
    @blp.arguments(ActivationSchema)
    @blp.response(200, TokenSchema)
    def post(self, body: dict):
        """Redeem a one-time code on a beneficiary's phone for a token that acts only for them (failures throttled).

        The person agrees to the biometric consent first (`consent_version`); the agreement is recorded."""
        try:
            return auth.activate_device(ctx(), code=body["code"], consent_version=body["consent_version"])
        except auth.AuthError as exc:
            raise Unauthorized("activation failed", {"code": [exc.reason]}) from exc


@blp.route("/me")
class Me(MethodView):
    @authenticated
    @blp.response(200, ActorSchema)
    def get(self):
        """Who the bearer token speaks for."""
        return current_actor()


@blp.route("/auth/logout")
class Logout(MethodView):
    @authenticated
    @db.transaction
    @answers(422)
    @blp.response(204)
    def post(self):
        """Revoke the token this request carries (staff or device); it is refused from now on."""
        auth.logout(ctx(), actor=current_actor(), token=bearer_token())
