"""Payment runs and their exports."""

from __future__ import annotations

import re

from marshmallow import ValidationError, fields, validate

from server.schemas.case import REGION_CODE
from server.schemas.common import Money, Schema
from server.services import date_window

PERIOD_FORMAT = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="a period is YYYY-MM")


def _period_within_window(value: str) -> None:
    # A malformed period is PERIOD_FORMAT's to report.
    if re.fullmatch(PERIOD_FORMAT.regex, value) and not date_window.period_within(value):
        raise ValidationError(f"out_of_range: from {date_window.EARLIEST:%Y-%m} to {date_window.latest():%Y-%m}")


PERIOD = [PERIOD_FORMAT, _period_within_window]


class PaymentRunRequestSchema(Schema):
    period = fields.String(required=True, validate=PERIOD)
    region = fields.String(required=True, validate=REGION_CODE)


class PaymentRunSchema(Schema):
    id = fields.UUID(required=True)
    period = fields.String(required=True)
    region_code = fields.String(required=True)
    created_by = fields.UUID(required=True)
    created_at = fields.DateTime(required=True)
    total_amount = Money(required=True)
    total_arrears = Money(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class PaymentRunQuerySchema(Schema):
    period = fields.String(validate=PERIOD)


class ExportQuerySchema(Schema):
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


class RecoveryQuerySchema(Schema):
    region = fields.String(required=True, validate=REGION_CODE)
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


class RecoveryMonthSchema(Schema):
    period = fields.String(required=True)
    run_id = fields.UUID(required=True)
    amount = fields.Decimal(places=2, as_string=True, required=True)
    flag = fields.String(required=True, metadata={"description": "paid_after_death or paid_after_termination"})


class RecoverySchema(Schema):
    beneficiary_id = fields.UUID(required=True)
    village_code = fields.String(required=True)
    name = fields.String(required=True)
    id_number_masked = fields.String(required=True)
    terminated_on = fields.Date(required=True, allow_none=True)
    months = fields.List(fields.Nested(RecoveryMonthSchema), required=True)
    amount = fields.Decimal(places=2, as_string=True, required=True, metadata={"description": "Sum to recover"})
