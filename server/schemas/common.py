"""Shapes shared by every blueprint, and the base every schema derives from."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import marshmallow
from marshmallow import ValidationError, fields, pre_load

from server.services import date_window

# C0 controls other than tab, line feed and carriage return, DEL, and lone UTF-16 surrogates (JSON
# can spell them as \ud800): PostgreSQL refuses NUL and unencodable text, and no name, code or
# reason the offices type contains any of them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# Integers go into PostgreSQL INTEGER columns or arithmetic on them.
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
# Deep enough for any shape the API takes; a JSON document nested deeper is refused unparsed.
JSON_MAX_DEPTH = 32

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(document: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text, counted without parsing it."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub(b"", document)):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _has_control(value: Any) -> bool:
    if isinstance(value, str):
        return _CONTROL.search(value) is not None
    if isinstance(value, Mapping):
        return any(_has_control(key) or _has_control(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_has_control(item) for item in value)
    return False


def _day_within_window(value: date | datetime) -> None:
    day = value.date() if isinstance(value, datetime) else value
    if not date_window.within(day):
        raise ValidationError(f"out_of_range: from {date_window.EARLIEST} to {date_window.latest()}")


def _int_within_range(value: int) -> None:
    if not _INT_MIN <= value <= _INT_MAX:
        raise ValidationError("out_of_range")


class Schema(marshmallow.Schema):
    """The base of every API schema (bodies, query strings, multipart JSON parts, CSV rows).

    It refuses control characters in any string of the input, keys included, and bounds every date
    to `date_window` and every integer to 32 bits, so no input reaches the database in a form it
    refuses with a server error.
    """

    @pre_load
    def _refuse_control_characters(self, data: Any, **_kwargs) -> Any:
        if isinstance(data, Mapping):
            bad = {
                (key if not _has_control(key) else "_schema"): ["control_character"]
                for key, value in data.items()
                if _has_control(key) or (not self._opaque(key) and _has_control(value))
            }
            if bad:
                raise ValidationError(bad)
        return data

    def _opaque(self, key: str) -> bool:
        """A Raw field (or a list of them) is loaded later by a schema of its own, item by item:
        a visit in a sync batch is rejected alone, never the whole batch."""
        field = self.fields.get(key)
        inner = field.inner if isinstance(field, fields.List) else field
        return type(inner) is fields.Raw

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        # Custom callables rather than validate.Range: the window moves with today, so it is not
        # written into the OpenAPI document as a fixed minimum and maximum.
        # Each schema instance binds copies of the declared fields that share one validator list:
        # appending on every bind grew it by one per instance, and a nested schema is made per request.
        if isinstance(field_obj, fields.Date | fields.DateTime) and _day_within_window not in field_obj.validators:
            field_obj.validators = [*field_obj.validators, _day_within_window]
        elif isinstance(field_obj, fields.Integer):
            field_obj.validators.append(_int_within_range)


MONEY_PATTERN = r"^-?\d{1,9}(\.\d{1,2})?$"


class Money(fields.Decimal):
    """An amount of yuan as a decimal string with two places ("335.00"), never a float."""

    def __init__(self, *, minimum: Decimal | int = 0, maximum: Decimal | int = 100000, **kwargs) -> None:
        metadata = {"pattern": MONEY_PATTERN, "example": "335.00"} | kwargs.pop("metadata", {})
        super().__init__(places=2, as_string=True, metadata=metadata, **kwargs)
        self.minimum, self.maximum = Decimal(minimum), Decimal(maximum)

    def _validated(self, value: Any) -> Decimal | None:
        number = super()._validated(value)
        if number is not None and not self.minimum <= number <= self.maximum:
            raise self.make_error("validator_failed")
        return number


class ErrorSchema(Schema):
    """Every 4xx and 5xx: `errors` maps a field to machine-readable reason codes."""

    code = fields.Integer(required=True)
    status = fields.String(required=True)
    message = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.Raw())


class ReasonSchema(Schema):
    reason = fields.String(required=True, metadata={"description": "Why; kept in the audit log."})
