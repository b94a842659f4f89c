"""The HTTP API under /api/v1, documented as OpenAPI and served with Swagger UI at /docs."""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Blueprint, Flask, jsonify
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path

from server.api import (
    beneficiaries,
    cases,
    checkins,
    cycles,
    deaths,
    enrolment,
    jobs,
    payments,
    regions,
    reports,
    sessions,
    staff,
    suspensions,
    visits,
)
from server.services.errors import DomainError
from storage import StorageError

log = logging.getLogger(__name__)

BLUEPRINTS = (
    sessions.blp,
    regions.blp,
    beneficiaries.blp,
    enrolment.blp,
    checkins.blp,
    visits.blp,
    cases.blp,
    cycles.blp,
    suspensions.blp,
    deaths.blp,
    payments.blp,
    reports.blp,
    staff.blp,
    jobs.blp,
)


def _error(status: HTTPStatus, message: str, errors: dict):
    body = {"code": status.value, "status": status.phrase, "message": message, "errors": errors}
    return jsonify(body), status.value


def _domain_error(exc: DomainError):
    response, status = _error(HTTPStatus(exc.status), exc.message, exc.errors)
    response.headers.update(exc.headers)
    return response, status


def _storage_error(exc: StorageError):
    # Nothing was committed (services store objects before their rows), so the client may simply retry.
    log.error("object storage failed: %s", type(exc).__name__)
    return _error(
        HTTPStatus.SERVICE_UNAVAILABLE, "object storage is unavailable; try again", {"_": ["storage_unavailable"]}
    )


def init_app(app: Flask) -> Api:
    """Register the blueprints, the bearer-token scheme and the error shape."""
    app.config.update(
        API_TITLE="FieldCheck",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="/docs/assets/",
        API_SPEC_OPTIONS={
            "security": [{"bearerAuth": []}],
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
            },
            "info": {"description": "Proof-of-life check-ins, home visits and the suspension queue."},
        },
    )
    api = Api(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    app.register_blueprint(
        Blueprint("swagger_ui_assets", __name__, static_folder=str(swagger_ui_path), static_url_path="/docs/assets")
    )
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(StorageError, _storage_error)
    app.extensions["fieldcheck.api"] = api
    return api
