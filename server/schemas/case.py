from __future__ import annotations

from marshmallow import Schema, fields

from server.models import CaseKind, CaseState


class CaseSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.Enum(CaseKind, by_value=True, required=True)
    state = fields.Enum(CaseState, by_value=True, required=True)
    beneficiary_id = fields.UUID(required=True)
    region_code = fields.String(required=True)
    summary = fields.String(required=True)
    details = fields.Dict(required=True)
    due_on = fields.Date(required=True)
    assigned_to = fields.UUID(allow_none=True)
    created_at = fields.DateTime(required=True)


class CaseQuerySchema(Schema):
    kind = fields.Enum(CaseKind, by_value=True)
    state = fields.Enum(CaseState, by_value=True)
    beneficiary_id = fields.UUID()
