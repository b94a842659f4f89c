"""Reading a console form with the API's own request schema, so a page accepts exactly what the API accepts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError

from server.services.errors import DomainError


def _nested(form: Mapping[str, str]) -> dict[str, Any]:
    """Non-empty fields; `exemption.kind` becomes {"exemption": {"kind": …}}."""
    data: dict[str, Any] = {}
    for name, value in form.items():
        if name == "csrf_token" or not value.strip():
            continue
        head, _, tail = name.partition(".")
        if tail:
            data.setdefault(head, {})[tail] = value.strip()
        else:
            data[name] = value.strip()
    return data


def load(schema: Schema, form: Mapping[str, str], *, only: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The form parsed by the schema; a field it refuses is a DomainError with reason `invalid`."""
    data = _nested(form)
    if only is not None:
        data = {name: value for name, value in data.items() if name in only}
    try:
        return schema.load(data)
    except ValidationError as exc:
        errors = {
            field: ["required" if "required" in str(msgs).lower() else "invalid"]
            for field, msgs in exc.messages.items()
        }
        raise DomainError("the form has invalid fields", errors) from exc
