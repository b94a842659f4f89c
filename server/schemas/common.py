"""Shapes shared by every blueprint."""

from __future__ import annotations

from marshmallow import Schema, fields


class ErrorSchema(Schema):
    """Every 4xx and 5xx: `errors` maps a field to machine-readable reason codes."""

    code = fields.Integer(required=True)
    status = fields.String(required=True)
    message = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.Raw())


class ReasonSchema(Schema):
    reason = fields.String(required=True, metadata={"description": "Why; kept in the audit log."})
