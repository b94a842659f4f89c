"""One error shape for every answer that is not a success, and the statuses each operation declares.

Every error is `{code, status, message, errors}` where `errors` maps a field (a path such as
`frames.0.captured_at` when nested, or `_` for the request as a whole) to machine-readable reason
codes. Schema validation, the domain's refusals, sync's per-item rejects and HTTP errors (404, 405,
412, 428, …) all take this shape; the location a field came from (json, query, form) is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from http import HTTPStatus
from typing import Any

from flask import current_app, jsonify, request
from marshmallow import Schema
from werkzeug.exceptions import HTTPException

from server.services.errors import DomainError

# Marshmallow's messages are for people; a device needs codes it can act on. Validators in our schemas
# already raise codes (snake_case), which pass through as they are.
_MESSAGE_CODES = {
    "Missing data for required field.": "required",
    "Unknown field.": "unknown_field",
    "Field may not be null.": "null",
    "Not a valid UUID.": "invalid_uuid",
    "Not a valid integer.": "invalid_integer",
    "Not a valid datetime.": "invalid_datetime",
    "Not a valid date.": "invalid_date",
    "Not a valid boolean.": "invalid_boolean",
    "Not a valid number.": "invalid_number",
    "Not a valid string.": "invalid_string",
}
_LOCATIONS = ("json", "query", "querystring", "form", "files", "multipart", "headers", "view_args", "json_or_form")
# What to do about a precondition answer, since smorest's own 412 and 428 say nothing.
_ETAG_ADVICE = {
    412: ("stale_etag", "the resource changed since you read it: GET {path} again and send its new ETag in If-Match"),
    428: ("required", "this change needs If-Match: GET {path} and send its ETag in If-Match"),
}


def _code(message: object) -> str:
    text = str(message)
    if text in _MESSAGE_CODES:
        return _MESSAGE_CODES[text]
    return text if text.replace("_", "").isalnum() and text.islower() else "invalid"


def reason_codes(messages: object, prefix: str = "") -> dict[str, list[str]]:
    """Flatten nested validation messages to {"gps.0.lat": ["invalid"]}."""
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = "_" if key == "_schema" else str(key)
            for field, codes in reason_codes(value, f"{prefix}.{name}" if prefix else name).items():
                flat[field] = sorted(set(flat.get(field, [])) | set(codes))
        return flat
    texts = messages if isinstance(messages, list) else [messages]
    if texts and all(isinstance(t, dict) for t in texts):
        flat = {}
        for item in texts:
            flat.update(reason_codes(item, prefix))
        return flat
    return {prefix or "_": sorted({_code(t) for t in texts})}


def _without_locations(messages: dict) -> dict:
    merged: dict = {}
    for location, fields in messages.items():
        if location in _LOCATIONS and isinstance(fields, dict):
            merged.update(fields)
        else:
            merged[location] = fields
    return merged


def body(status: int, message: str, errors: dict[str, list[str]]) -> dict[str, Any]:
    """The error shape itself."""
    return {"code": status, "status": HTTPStatus(status).phrase, "message": message, "errors": errors}


def http_error(error: HTTPException):
    """Any HTTP error (smorest's validation 422, etag 412/428, Flask's 404/405/413, a 500) in the one shape."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = reason_codes(_without_locations(data["messages"])) if "messages" in data else data.get("errors", {})
    message = data.get("message")
    if status in _ETAG_ADVICE:
        reason, advice = _ETAG_ADVICE[status]
        errors = errors or {"if_match": [reason]}
        message = advice.format(path=request.path)
    elif status == 422 and not message:
        message = "the request is not valid: see errors for each field"
    elif not message:
        message = error.description if status < 500 else "internal error"
    response = jsonify(body(status, message, errors))
    response.status_code = status
    response.headers.update(data.get("headers") or {})
    return response


@cache
def _query_names(schema: Schema) -> frozenset[str]:
    # Per schema (the API's Blueprint declares instances), not per request.
    return frozenset(f.data_key or name for name, f in schema.fields.items() if not f.dump_only)


def unknown_query_check(blueprints: set[str]) -> Callable[[], None]:
    """A before-request hook answering 422 `unknown_field` for a query parameter the operation does not
    declare (an operation that declares none takes none), on these blueprints only: pages elsewhere (the
    console, the phone app) keep their own query strings."""

    def check() -> None:
        if not request.args or request.blueprint not in blueprints:
            return
        view = current_app.view_functions.get(request.endpoint)
        method = getattr(getattr(view, "view_class", None), request.method.lower(), None)
        apidoc = getattr(method, "_apidoc", {})
        schemas = [p["schema"] for p in apidoc.get("arguments", {}).get("parameters", []) if p["in"] == "query"]
        if "pagination" in apidoc:
            schemas.append(apidoc["pagination"]["parameters"]["schema"])
        unknown = sorted(set(request.args) - set().union(*(_query_names(schema) for schema in schemas)))
        if unknown:
            raise DomainError("unknown query parameters", {name: ["unknown_field"] for name in unknown})

    return check


def answers(*statuses: int) -> Callable:
    """Declare error statuses an operation can answer, each documented with the shared Error shape."""

    def decorator(func: Callable) -> Callable:
        declare(func, statuses)
        return func

    return decorator


def declare(func: Callable, statuses: Iterable[int]) -> None:
    """Add error statuses to a view function's OpenAPI responses (smorest's Error response components)."""
    # A wrapper made with functools.wraps shares the wrapped function's _apidoc: copy what changes, not
    # the whole document, whose deep copy would copy every schema it names (a tenth of the API's import).
    apidoc = getattr(func, "_apidoc", {})
    response = apidoc.get("response", {})
    responses = {code: list(declared) for code, declared in response.get("responses", {}).items()}
    for status in statuses:
        declared = responses.setdefault(int(status), [])
        name = HTTPStatus(status).name
        if name not in declared:
            declared.append(name)
    func._apidoc = {**apidoc, "response": {**response, "responses": responses}}
