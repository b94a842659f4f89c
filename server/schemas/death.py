"""Death records from the civil registry or a funeral service, and the import report."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import fields, validate

from server.schemas.beneficiary import ImportErrorSchema, validate_resident_id
from server.schemas.common import Schema


class DeathRowSchema(Schema):
    id_number = fields.String(required=True, validate=validate_resident_id)
    date_of_death = fields.Date(required=True)
    source = fields.String(load_default=None, validate=validate.Length(max=100))
    reference = fields.String(load_default=None, validate=validate.Length(max=100))


class DeathUploadSchema(Schema):
    file = Upload(
        required=True,
        metadata={
            "description": "CSV (UTF-8 or GB18030) with a header row: id_number, date_of_death (YYYY-MM-DD), "
            "and optionally source, reference"
        },
    )


class DeathRowResultSchema(Schema):
    row = fields.Integer(required=True, metadata={"description": "1-based line number in the file, header included"})
    status = fields.String(
        required=True,
        metadata={"description": "case_opened, already_recorded, already_terminated, no_match or error"},
    )
    case_id = fields.UUID(allow_none=True)
    flagged_payments = fields.Integer(required=True, metadata={"description": "payment lines flagged paid_after_death"})
    errors = fields.List(fields.Nested(ImportErrorSchema))


class DeathImportReportSchema(Schema):
    case_opened = fields.Integer(required=True)
    already_recorded = fields.Integer(required=True)
    already_terminated = fields.Integer(required=True)
    no_match = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    flagged_payments = fields.Integer(required=True)
    rows = fields.List(fields.Nested(DeathRowResultSchema), required=True)
