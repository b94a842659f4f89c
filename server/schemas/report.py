"""The coverage report."""

from __future__ import annotations

from marshmallow import fields, validate

from server.schemas.case import REGION_CODE
from server.schemas.common import Schema


class CoverageQuerySchema(Schema):
    region = fields.String(required=True, validate=REGION_CODE)
    from_ = fields.Date(required=True, data_key="from", metadata={"description": "First day of the period"})
    to = fields.Date(required=True, metadata={"description": "Last day of the period"})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


PCT = {"places": 1, "as_string": True, "allow_none": True}


class CoverageRowSchema(Schema):
    region_code = fields.String(required=True)
    name = fields.String(required=True)
    beneficiaries = fields.Integer(required=True, metadata={"description": "On the rolls at the end of the period"})
    enrolled = fields.Integer(required=True)
    enrolled_pct = fields.Decimal(**PCT)
    checked_in = fields.Integer(required=True)
    checked_in_pct = fields.Decimal(**PCT)
    verified = fields.Integer(required=True)
    verified_pct = fields.Decimal(**PCT)
    open_cases = fields.Integer(required=True)
    suspensions = fields.Integer(required=True)
    reinstatements = fields.Integer(required=True)


class CoverageSchema(Schema):
    region = fields.String(required=True)
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    rows = fields.List(fields.Nested(CoverageRowSchema), required=True)
    total = fields.Nested(CoverageRowSchema, required=True)
