"""Terminations, appeals against them, and the report of disputed death records."""

from __future__ import annotations

from marshmallow import fields, validate

from server.schemas.common import Money, Schema
from server.schemas.suspension import NoticeSchema


class TerminationSchema(Schema):
    id = fields.UUID(required=True)
    beneficiary_id = fields.UUID(required=True)
    case_id = fields.UUID(required=True)
    decision_id = fields.UUID(required=True)
    region_code = fields.String(required=True)
    effective_on = fields.Date(required=True, metadata={"description": "Assistance ended from this day"})
    proposed_by = fields.UUID(required=True)
    approved_by = fields.UUID(required=True)
    approved_at = fields.DateTime(required=True)
    appealed_at = fields.DateTime(allow_none=True)
    restored_on = fields.Date(allow_none=True, metadata={"description": "Undone after an appeal from this day"})
    restore_decision_id = fields.UUID(allow_none=True)
    arrears_months = fields.Integer(allow_none=True)
    arrears_amount = Money(allow_none=True)
    arrears_paid_in_run_id = fields.UUID(allow_none=True)
    notices = fields.List(fields.Nested(NoticeSchema), required=True)


class TerminationQuerySchema(Schema):
    beneficiary_id = fields.UUID()


class DisputedQuerySchema(Schema):
    source = fields.String(validate=validate.Length(max=100), metadata={"description": "Only this source registry"})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


class DisputedRecordSchema(Schema):
    source = fields.String(allow_none=True)
    reference = fields.String(allow_none=True)
    date_of_death = fields.Date(required=True)
    village_code = fields.String(required=True)
    name = fields.String(required=True)
    id_number_masked = fields.String(required=True)
    reason = fields.String(required=True, metadata={"description": "Why the record is wrong"})
    disputed_at = fields.DateTime(required=True)
    beneficiary_id = fields.UUID(required=True)


class SourceCountSchema(Schema):
    source = fields.String(allow_none=True)
    count = fields.Integer(required=True)


class DisputedReportSchema(Schema):
    sources = fields.List(fields.Nested(SourceCountSchema), required=True)
    records = fields.List(fields.Nested(DisputedRecordSchema), required=True)
