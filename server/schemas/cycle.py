"""Shapes of cycles, exemptions, imported evidence and reminders."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import fields, validate

from server.models import CycleFrequency, ExemptionKind, NotificationState, Program
from server.schemas.beneficiary import ImportRowSchema
from server.schemas.common import Schema

REGION_CODE = validate.Regexp(r"^\d{6}(\d{3}(\d{3})?)?$", error="a county (6), township (9) or village (12) code")


class CycleCreateSchema(Schema):
    region_code = fields.String(
        required=True, validate=REGION_CODE, metadata={"description": "Everyone whose village code starts with it"}
    )
    program = fields.Enum(
        Program, by_value=True, load_default=None, allow_none=True, metadata={"description": "Omit for all"}
    )
    frequency = fields.Enum(CycleFrequency, by_value=True, load_default=CycleFrequency.QUARTERLY)
    opens_on = fields.Date(required=True)
    deadline = fields.Date(required=True, metadata={"description": "Last day to check in; grace days follow"})
    grace_days = fields.Integer(
        validate=validate.Range(min=0, max=90), metadata={"description": "Default FIELDCHECK_CYCLE_GRACE_DAYS (15)"}
    )


class CycleSchema(Schema):
    id = fields.UUID(required=True)
    region_code = fields.String(required=True)
    program = fields.Enum(Program, by_value=True, allow_none=True)
    frequency = fields.Enum(CycleFrequency, by_value=True, required=True)
    opens_on = fields.Date(required=True)
    deadline = fields.Date(required=True)
    grace_days = fields.Integer(required=True)
    closes_on = fields.Date(required=True, metadata={"description": "Last day proof counts; the sweep follows"})
    swept_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)


PHASE = fields.String(required=True, metadata={"description": "upcoming, open, grace or closed"})


class CycleStatusSchema(Schema):
    cycle = fields.Nested(CycleSchema, required=True)
    phase = PHASE
    due = fields.Integer(required=True, metadata={"description": "Active, enrolled by the deadline, in your region"})
    satisfied = fields.Integer(required=True)
    unsatisfied = fields.Integer(required=True)
    satisfied_by = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "People with each kind of proof (checkin, exemption, evidence, visit)"},
    )


class BeneficiaryCycleSchema(Schema):
    cycle = fields.Nested(CycleSchema, required=True)
    phase = PHASE
    due = fields.Boolean(required=True, metadata={"description": "False if enrolled after the deadline"})
    deadline = fields.Date(
        required=True,
        metadata={"description": "The person's deadline: the cycle's, moved by exempted days before it (README)"},
    )
    last_day = fields.Date(required=True, metadata={"description": "The person's deadline + the cycle's grace"})
    satisfied = fields.Boolean(required=True)
    satisfied_by = fields.List(fields.String(), required=True)


class ExemptionCreateSchema(Schema):
    kind = fields.Enum(ExemptionKind, by_value=True, required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True, metadata={"description": "work_absence: 3 to 12 months after starts_on"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    evidence = fields.String(
        load_default=None,
        validate=validate.Length(max=1000),
        metadata={"description": "What was seen, e.g. the institution's confirmation"},
    )
    case_id = fields.UUID(load_default=None, metadata={"description": "The review case this decides, if any"})


class ExemptionSchema(Schema):
    id = fields.UUID(required=True)
    beneficiary_id = fields.UUID(required=True)
    kind = fields.Enum(ExemptionKind, by_value=True, required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    reason = fields.String(required=True)
    evidence = fields.String(allow_none=True)
    approved_by = fields.UUID(required=True)
    case_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime(required=True)


class NotificationSchema(Schema):
    id = fields.UUID(required=True)
    cycle_id = fields.UUID(required=True)
    step = fields.String(required=True, metadata={"description": "due_14, due_7, due_1 or overdue"})
    channel = fields.String(required=True)
    state = fields.Enum(NotificationState, by_value=True, required=True)
    attempts = fields.Integer(required=True)
    sent_at = fields.DateTime(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class EvidenceRowSchema(Schema):
    """One row of an evidence CSV; the ID number is checked when it is looked up."""

    id_number = fields.String(required=True)
    source = fields.String(required=True, validate=validate.Length(min=1, max=64))
    reference = fields.String(required=True, validate=validate.Length(min=1, max=128))


class EvidenceUploadSchema(Schema):
    file = Upload(
        required=True,
        metadata={
            "description": "CSV (UTF-8 or GB18030) with a header row: id_number, source (who vouches, e.g. a "
            "hospital), reference (their record number)"
        },
    )


class EvidenceReportSchema(Schema):
    created = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    rows = fields.List(fields.Nested(ImportRowSchema), required=True)
