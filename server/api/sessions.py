"""Logging in, activating a beneficiary's phone, and asking who you are."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from server import db
from server.api.access import Unauthorized, authenticated, ctx, current_actor
from server.schemas.auth import ActivationSchema, ActorSchema, LoginSchema, TokenSchema
from server.services import auth

blp = Blueprint("sessions", __name__, url_prefix="/api/v1", description="Tokens for staff and beneficiary devices")
PUBLIC = [{}]


@blp.route("/auth/token")
class StaffToken(MethodView):
    @db.transaction
    @blp.doc(security=PUBLIC)
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    def post(self, body: dict):
        """Staff login: username and password for a bearer token."""
        try:
            return auth.login(ctx(), username=body["username"], password=body["password"])
        except auth.AuthError as exc:
            raise Unauthorized("login failed", {"authorization": [exc.reason]}) from exc


@blp.route("/devices/activate")
class DeviceActivation(MethodView):
    @db.transaction
    @blp.doc(security=PUBLIC)
    @blp.arguments(ActivationSchema)
    @blp.response(200, TokenSchema)
    def post(self, body: dict):
        """Redeem a one-time code on a beneficiary's phone for a token that acts only for them.

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
