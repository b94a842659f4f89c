"""The HTTP API under /api/v1, documented as OpenAPI and served with Swagger UI at /docs."""

from __future__ import annotations

import logging
import threading
import traceback
from http import HTTPStatus

from apispec import APISpec
from flask import Blueprint, Flask, jsonify, request
from flask_smorest import Api
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import fields
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from server.api import (
    beneficiaries,
    cases,
    checkins,
    cycles,
    deaths,
    enrolment,
    index,
    jobs,
    payments,
    phone,
    regions,
    reports,
    sessions,
    staff,
    suspensions,
    terminations,
    visits,
)
from server.api import errors as errors_
from server.api.paging import PaginationMetadataSchema
from server.schemas.common import JSON_MAX_DEPTH, json_depth
from server.services.errors import DomainError
from storage import StorageError

log = logging.getLogger(__name__)

BLUEPRINTS = (
    index.blp,
    sessions.blp,
    regions.blp,
    beneficiaries.blp,
    enrolment.blp,
    checkins.blp,
    visits.blp,
    cases.blp,
    cycles.blp,
    suspensions.blp,
    terminations.blp,
    deaths.blp,
    payments.blp,
    reports.blp,
    phone.blp,
    staff.blp,
    jobs.blp,
)


def _error(status: HTTPStatus, message: str, errors: dict):
    return jsonify(errors_.body(status.value, message, errors)), status.value


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


# A restarted PostgreSQL accepts connections again within seconds; a failover takes longer.
DATABASE_RETRY_AFTER_SECONDS = 5

# page × page_size is an OFFSET: a page past this is refused before it overflows a BIGINT.
MAX_PAGE = 100_000


class FieldCheckApi(Api):
    """flask-smorest's Api, documenting what the responses really carry, and only when first asked.

    flask-smorest turns every operation and its schemas into OpenAPI as each blueprint is registered,
    a tenth of the app's start-up, in every process, for a document that only /openapi.json, /docs and
    `fieldcheck openapi` read. The routes are registered at once; their documentation is added to the
    spec in the same order on the first access to `spec`, so the document comes out the same.
    """

    def __init__(self, app: Flask) -> None:
        # (blueprint, name) in registration order, not yet in the document.
        self._undocumented: list[tuple[ApiBlueprint, str]] = []
        self._documenting = threading.Lock()
        super().__init__(app)

    @property
    def spec(self) -> APISpec | None:
        with self._documenting:
            while self._undocumented:
                blueprint, name = self._undocumented.pop(0)
                blueprint.register_views_in_doc(self, self._app, self._spec, name=name, parameters=None)
                self._spec.tag({"name": name, "description": blueprint.description})
        return self._spec

    @spec.setter
    def spec(self, spec: APISpec | None) -> None:
        self._spec = spec

    def register_blueprint(self, blp: ApiBlueprint, **options) -> None:
        """Register the blueprint's routes now (as flask-smorest does) and its documentation later."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, name))

    def _register_pagination_header(self) -> None:
        # X-Pagination is a JSON text: an object `schema` would mean a comma-separated header.
        self.spec.components.header(
            "PAGINATION",
            {
                "description": "Pagination metadata",
                "content": {"application/json": {"schema": PaginationMetadataSchema}},
            },
            lazy=True,
        )


def _decimal_strings(self, field: fields.Field, ret: dict, **_kwargs) -> dict:
    """A Decimal dumped as a string ("335.00") is documented as a string with a decimal pattern."""
    if isinstance(field, fields.Decimal) and field.as_string:
        return {"type": "string", "format": "decimal", "pattern": ret.get("pattern", r"^-?\d+(\.\d+)?$")}
    return {}


def _refuse_unbounded_input():
    """Before any view parses it: a page number past MAX_PAGE, a JSON body nested past JSON_MAX_DEPTH."""
    page = request.args.get("page", "")
    if page.strip().isdigit() and int(page) > MAX_PAGE:
        return _error(HTTPStatus.UNPROCESSABLE_ENTITY, f"page is at most {MAX_PAGE}", {"page": ["out_of_range"]})
    # The JSON parser recurses per level: a deep enough document would exhaust the stack.
    if request.is_json and json_depth(request.get_data(cache=True)) > JSON_MAX_DEPTH:
        return _error(
            HTTPStatus.UNPROCESSABLE_ENTITY, f"JSON nests at most {JSON_MAX_DEPTH} levels", {"json": ["too_deep"]}
        )
    return None


def _database_error(exc: DBAPIError):
    # The driver's message quotes the value it refused (a name, a username): log where it failed,
    # the SQL and the SQLSTATE, never the message or the parameters (the engine hides those too).
    orig = exc.orig
    log.error(
        "database error %s (SQLSTATE %s) in %s\n%s",
        type(orig).__name__,
        getattr(orig, "sqlstate", None),
        exc.statement,
        # Where, without source lines: those may hold literals too.
        "".join(f"  {f.filename}:{f.lineno} in {f.name}\n" for f in traceback.extract_tb(exc.__traceback__)),
    )
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is down, restarting or cut off (or picked this transaction as a deadlock
        # victim): nothing was committed, and the same request will work once it is back.
        response, status = _error(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "the database is unavailable; try again",
            {"_": ["database_unavailable"]},
        )
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response, status
    return _error(HTTPStatus.INTERNAL_SERVER_ERROR, "the database could not complete the request", {})


def _method_not_allowed(exc: MethodNotAllowed):
    response, status = _error(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed here", {})
    response.headers["Allow"] = ", ".join(sorted(exc.valid_methods or ()))
    return response, status


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
    api = FieldCheckApi(app)
    api.ma_plugin.converter.add_attribute_function(_decimal_strings)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    app.register_blueprint(
        Blueprint("swagger_ui_assets", __name__, static_folder=str(swagger_ui_path), static_url_path="/docs/assets")
    )
    app.register_error_handler(HTTPException, errors_.http_error)
    app.register_error_handler(DomainError, _domain_error)
    app.before_request(errors_.unknown_query_check({blueprint.name for blueprint in BLUEPRINTS}))
    app.register_error_handler(StorageError, _storage_error)
    app.register_error_handler(MethodNotAllowed, _method_not_allowed)
    app.register_error_handler(DBAPIError, _database_error)
    app.before_request(_refuse_unbounded_input)
    app.extensions["fieldcheck.api"] = api
    return api
