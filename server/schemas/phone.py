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
    consent_withdrawn_at = fields.DateTime(
        allow_none=True, metadata={"description": "The person withdrew consent to face processing: no self check-in"}
    )


class MyConsentSchema(Schema):
    text_version = fields.String(required=True, metadata={"description": "The consent text the person agreed to"})
    agreed_at = fields.DateTime(required=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    this_phone = fields.Boolean(required=True, metadata={"description": "Given on the phone asking"})


class MyCheckinSchema(CheckinStatusSchema):
    mode = fields.String(required=True, metadata={"description": "self, assisted_relative or assisted_staff"})


class MyVisitSchema(Schema):
    id = fields.UUID(required=True)
    visited_at = fields.DateTime(required=True)
    outcome = fields.String(required=True, metadata={"description": "confirmed_present, absent, moved_away, …"})


class MyDataSchema(Schema):
    name = fields.String(required=True)
    status = fields.String(required=True)
    checkins = fields.List(fields.Nested(MyCheckinSchema), required=True, metadata={"description": "Newest first"})
    checkins_total = fields.Integer(required=True)
    visits = fields.List(fields.Nested(MyVisitSchema), required=True, metadata={"description": "Newest first"})
    notices = fields.List(fields.Nested(PhoneNoticeSchema), required=True)
    enrolment_photos = fields.Integer(required=True, metadata={"description": "Face photos kept for matching"})
    consents = fields.List(fields.Nested(MyConsentSchema), required=True, metadata={"description": "Newest first"})
    consent_withdrawn_at = fields.DateTime(
        allow_none=True, metadata={"description": "Set when every consent the person gave is withdrawn"}
    )
    retention_days = fields.Dict(
        keys=fields.String(), values=fields.Integer(), required=True, metadata={"description": "How long each is kept"}
    )


class LocalisedMessageSchema(Schema):
    zh = fields.String(required=True)
    en = fields.String(required=True)


class ConsentWithdrawnSchema(Schema):
    consent_withdrawn_at = fields.DateTime(required=True)
    message = fields.Nested(LocalisedMessageSchema, required=True, metadata={"description": "What it means"})
