"""Suspensions, their notices, appeals and reinstatement."""

from __future__ import annotations

from marshmallow import fields, validate

from server.models import NoticeChannel, NoticeKind, NoticeReason, SuspensionEnd
from server.schemas.common import Money, Schema


class NoticeSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.Enum(NoticeKind, by_value=True, required=True)
    what = fields.String(required=True)
    why = fields.String(required=True, metadata={"description": "The standard wording of reason_code"})
    reason_code = fields.Enum(NoticeReason, by_value=True, allow_none=True)
    note_for_person = fields.String(
        allow_none=True, metadata={"description": "Text a staff member wrote for the person"}
    )
    evidence = fields.String(allow_none=True, metadata={"description": "What the decision rests on"})
    how_to_appeal = fields.String(required=True)
    appeal_by = fields.Date(required=True)
    channel = fields.Enum(NoticeChannel, by_value=True, required=True)
    created_at = fields.DateTime(required=True)


class SuspensionSchema(Schema):
    id = fields.UUID(required=True)
    beneficiary_id = fields.UUID(required=True)
    case_id = fields.UUID(required=True)
    decision_id = fields.UUID(required=True)
    region_code = fields.String(required=True)
    effective_on = fields.Date(required=True)
    proposed_by = fields.UUID(required=True)
    approved_by = fields.UUID(required=True)
    approved_at = fields.DateTime(required=True)
    appealed_at = fields.DateTime(allow_none=True)
    ended_on = fields.Date(allow_none=True)
    end_reason = fields.Enum(SuspensionEnd, by_value=True, allow_none=True)
    arrears_months = fields.Integer(allow_none=True)
    arrears_amount = Money(allow_none=True)
    arrears_paid_in_run_id = fields.UUID(allow_none=True)
    notices = fields.List(fields.Nested(NoticeSchema), required=True)


class SuspensionQuerySchema(Schema):
    beneficiary_id = fields.UUID()
    ongoing = fields.Boolean(metadata={"description": "true: not ended; false: ended"})


class ReinstateSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    reinstated_on = fields.Date(
        load_default=None,
        metadata={"description": "When the reinstatement takes effect; today if omitted, never in the future"},
    )
