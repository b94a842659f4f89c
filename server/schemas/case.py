"""Review cases, the decisions taken on them, and the visit tasks they order."""

from __future__ import annotations

from marshmallow import fields, validate

from server.models import (
    CaseKind,
    CaseState,
    DecisionKind,
    DecisionStatus,
    ExemptionKind,
    NoticeChannel,
    NoticeReason,
    VisitTaskState,
)
from server.schemas.common import Schema

REGION_CODE = validate.Regexp(r"^\d{6}(\d{3}(\d{3})?)?$")
REASON = validate.Length(min=1, max=2000)


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
    decided_at = fields.DateTime(allow_none=True)
    decided_by = fields.UUID(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)


class CaseQuerySchema(Schema):
    kind = fields.Enum(CaseKind, by_value=True)
    state = fields.Enum(CaseState, by_value=True)
    beneficiary_id = fields.UUID()
    assigned_to = fields.UUID()
    region = fields.String(validate=REGION_CODE, metadata={"description": "Only cases inside this region"})
    due_before = fields.Date(metadata={"description": "Only cases due on or before this day"})


class CaseAssignSchema(Schema):
    assigned_to = fields.UUID(
        required=True, allow_none=True, metadata={"description": "A supervisor or admin; null to unassign"}
    )


class ExemptionPeriodSchema(Schema):
    kind = fields.Enum(ExemptionKind, by_value=True, required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True, metadata={"description": "work_absence: 3 to 12 months after starts_on"})


class DecisionRequestSchema(Schema):
    decision = fields.Enum(DecisionKind, by_value=True, required=True)
    reason = fields.String(
        required=True,
        validate=REASON,
        metadata={"description": "Why: the internal note every decision needs, for staff only, never on a notice."},
    )
    notice_reason = fields.Enum(
        NoticeReason,
        by_value=True,
        metadata={
            "description": "suspend/terminate: the grounds the notice states, in standard wording "
            "(default: the case kind's own; death_recorded names the record's source)"
        },
    )
    notice_text = fields.String(
        validate=validate.Length(max=500),
        metadata={"description": "suspend/terminate: free text for the person, printed on the notice; omit for none"},
    )
    restored_on = fields.Date(
        metadata={"description": "restore: assistance resumes from this day (today if omitted, never in the future)"}
    )
    dispute_reason = fields.String(
        validate=validate.Length(max=2000),
        metadata={"description": "restore: why the death record is wrong, reported to its source (required then)"},
    )
    effective_on = fields.Date(
        metadata={"description": "suspend: payment stops from this day; terminate: assistance ends (date of death)"}
    )
    notice_channel = fields.Enum(
        NoticeChannel, by_value=True, metadata={"description": "suspend/terminate: how the notice goes out (letter)"}
    )
    new_deadline = fields.Date(metadata={"description": "extend: the new due date"})
    exemption = fields.Nested(ExemptionPeriodSchema, metadata={"description": "exempt: kind and period"})
    field_worker_id = fields.UUID(metadata={"description": "order_visit: the field worker to visit"})
    due_on = fields.Date(metadata={"description": "order_visit: visit by this day"})


class DecisionSchema(Schema):
    id = fields.UUID(required=True)
    case_id = fields.UUID(required=True)
    decision = fields.Enum(DecisionKind, by_value=True, required=True)
    status = fields.Enum(
        DecisionStatus,
        by_value=True,
        required=True,
        metadata={"description": "applied at once, or pending a second person's approval, then approved or rejected"},
    )
    proposed_by = fields.UUID(allow_none=True, metadata={"description": "null when the system decided"})
    proposed_at = fields.DateTime(required=True)
    reason = fields.String(required=True, metadata={"description": "The internal note (staff only)"})
    notice_reason = fields.Enum(NoticeReason, by_value=True, allow_none=True)
    notice_text = fields.String(allow_none=True, metadata={"description": "Text for the person, on the notice"})
    params = fields.Dict(
        required=True, metadata={"description": "restore: also the proof check-in and the arrears at the proposal"}
    )
    approved_by = fields.UUID(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    rejected_by = fields.UUID(allow_none=True)
    rejected_at = fields.DateTime(allow_none=True)
    review_reason = fields.String(allow_none=True)


class ApprovalSchema(Schema):
    reason = fields.String(load_default=None, validate=validate.Length(max=2000))


class RejectionSchema(Schema):
    reason = fields.String(required=True, validate=REASON)


class VisitTaskSchema(Schema):
    id = fields.UUID(required=True)
    beneficiary_id = fields.UUID(required=True)
    case_id = fields.UUID(allow_none=True)
    field_worker_id = fields.UUID(required=True)
    region_code = fields.String(required=True)
    due_on = fields.Date(required=True)
    state = fields.Enum(VisitTaskState, by_value=True, required=True)
    created_by = fields.UUID(required=True)
    created_at = fields.DateTime(required=True)
    done_at = fields.DateTime(allow_none=True)
    visit_id = fields.UUID(allow_none=True)


class VisitTaskQuerySchema(Schema):
    state = fields.Enum(VisitTaskState, by_value=True)
