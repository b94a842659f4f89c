"""Beneficiary shapes. Lists show no contact details; single reads do, and are audited."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import ValidationError, fields, validate

from server.models import BeneficiaryStatus, Program
from server.schemas.common import Money, Schema
from server.services.resident_id import InvalidResidentId, parse_resident_id


def validate_resident_id(value: str) -> None:
    try:
        parse_resident_id(value)
    except InvalidResidentId as exc:
        raise ValidationError(exc.reason) from exc


VILLAGE_CODE = validate.Regexp(r"^\d{12}$", error="a village code has 12 digits")


class BeneficiaryFieldsSchema(Schema):
    """The editable fields, all optional."""

    name = fields.String(validate=validate.Length(min=1, max=100))
    program = fields.Enum(Program, by_value=True)
    household_code = fields.String(allow_none=True, validate=validate.Length(max=32))
    village_code = fields.String(validate=VILLAGE_CODE)
    home_address = fields.String(allow_none=True, validate=validate.Length(max=300))
    home_lat = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    home_lon = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    phone = fields.String(allow_none=True, validate=validate.Regexp(r"^\+?[0-9 -]{5,20}$", error="not a phone number"))
    monthly_amount = Money()


class BeneficiaryUpdateSchema(BeneficiaryFieldsSchema):
    """Send only the fields that change, with If-Match set to the ETag you read."""

    reason = fields.String(
        load_default=None, validate=validate.Length(max=500), metadata={"description": "Kept in the audit log."}
    )


class BeneficiaryCreateSchema(BeneficiaryFieldsSchema):
    id_number = fields.String(
        required=True,
        validate=validate_resident_id,
        metadata={"description": "18-character resident ID; stored encrypted, shown masked."},
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    program = fields.Enum(Program, by_value=True, required=True)
    village_code = fields.String(required=True, validate=VILLAGE_CODE)
    monthly_amount = Money(required=True)


class BeneficiarySummarySchema(Schema):
    id = fields.UUID(required=True)
    id_number_masked = fields.String(required=True)
    name = fields.String(required=True)
    program = fields.Enum(Program, by_value=True, required=True)
    household_code = fields.String(allow_none=True)
    village_code = fields.String(required=True)
    status = fields.Enum(BeneficiaryStatus, by_value=True, required=True)
    monthly_amount = Money(required=True)


class BeneficiarySchema(BeneficiarySummarySchema):
    home_address = fields.String(allow_none=True)
    home_lat = fields.Float(allow_none=True)
    home_lon = fields.Float(allow_none=True)
    phone = fields.String(allow_none=True)
    version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class BeneficiaryQuerySchema(Schema):
    program = fields.Enum(Program, by_value=True)
    status = fields.Enum(BeneficiaryStatus, by_value=True)
    region_code = fields.String(validate=validate.Regexp(r"^\d{6}(\d{3}(\d{3})?)?$"))
    household_code = fields.String()
    name = fields.String(validate=validate.Length(min=1, max=100))


class BeneficiarySearchSchema(BeneficiaryQuerySchema):
    id_number = fields.String(
        required=True,
        validate=validate.Length(min=15, max=18),
        metadata={
            "description": "Exact resident ID number, matched through its keyed hash and never logged. It is sent "
            "in the body because a URL stays in browsers' histories and proxies' logs."
        },
    )


class ImportErrorSchema(Schema):
    field = fields.String(required=True)
    reason = fields.String(required=True)


class ImportRowSchema(Schema):
    row = fields.Integer(required=True, metadata={"description": "1-based line number in the file, header included"})
    status = fields.String(required=True, metadata={"description": "created, updated, unchanged or error"})
    beneficiary_id = fields.UUID(allow_none=True)
    errors = fields.List(fields.Nested(ImportErrorSchema))


class ImportReportSchema(Schema):
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    rows = fields.List(fields.Nested(ImportRowSchema), required=True)


class RosterUploadSchema(Schema):
    file = Upload(
        required=True,
        metadata={
            "description": "CSV (UTF-8 or GB18030) with a header row: id_number, name, program, village_code, "
            "monthly_amount, and optionally household_code, home_address, home_lat, home_lon, phone"
        },
    )
