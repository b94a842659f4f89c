"""What the beneficiary's phone app reads: its person's standing, check-ins and notices."""

from __future__ import annotations

from marshmallow import fields

from server.schemas.checkin import CheckinStatusSchema
from server.schemas.common import Schema


class PhoneNoticeSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True, metadata={"description": "suspension or termination"})
    what = fields.String(required=True)
    why = fields.String(required=True, metadata={"description": "Standard wording, 中文 / English"})
    note_for_person = fields.String(allow_none=True, metadata={"description": "Text staff wrote for the person"})
    evidence = fields.String(allow_none=True, metadata={"description": "What the decision rests on, 中文 / English"})
    how_to_appeal = fields.String(required=True)
    appeal_by = fields.Date(required=True)
    created_at = fields.DateTime(required=True)


class PhoneHomeSchema(Schema):
    name = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "active, suspended or terminated"})
    covered_until = fields.Date(
        allow_none=True, metadata={"description": "Proof of life holds until this day (local date)"}
    )
    due_by = fields.Date(allow_none=True, metadata={"description": "Check in by this day (local date)"})
    locked_until = fields.DateTime(allow_none=True, metadata={"description": "Too many failures: wait until then"})
    checkins = fields.List(fields.Nested(CheckinStatusSchema), required=True, metadata={"description": "Newest first"})
    notices = fields.List(fields.Nested(PhoneNoticeSchema), required=True, metadata={"description": "Newest first"})
