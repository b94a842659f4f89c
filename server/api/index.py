"""The API's front door at /api/v1: where the documentation is and how to log in."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from server.api.paging import Blueprint
from server.schemas.index import ApiIndexSchema

blp = Blueprint("index", __name__, url_prefix="/api/v1", description="Where to start")


@blp.route("")
class ApiIndex(MethodView):
    @blp.doc(security=[{}])
    @blp.response(200, ApiIndexSchema)
    def get(self):
        """Where to start: the interactive documentation, the OpenAPI document and the login endpoint."""
        return {
            "name": "FieldCheck",
            "version": "v1",
            "docs": url_for("api-docs.openapi_swagger_ui"),
            "openapi": url_for("api-docs.openapi_json"),
            "login": url_for("sessions.StaffToken"),
        }
