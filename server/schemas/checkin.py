"""Check-in shapes: what the phone sends and sees, and what staff review."""

from __future__ import annotations

import json

from flask_smorest.fields import Upload
from marshmallow import ValidationError, fields, validate

from server.models import CheckinMode, CheckinState
from server.schemas.common import JSON_MAX_DEPTH, Schema, json_depth

ACTIONS = ("blink", "turn_left", "turn_right", "open_mouth", "nod")


class ChallengeRequestSchema(Schema):
    beneficiary_id = fields.UUID(
        metadata={"description": "Required for staff (assisted check-in); a device acts for its own person."}
    )
    assisted_by_relative = fields.Boolean(load_default=False, metadata={"description": "A relative holds the phone"})
    visit_id = fields.UUID(
        metadata={
            "description": "The field worker's home visit this assisted check-in is part of; its verdict is linked"
        }
    )


class PromptSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    prompt_zh = fields.String(required=True)
    prompt_en = fields.String(required=True)


class LightSchema(Schema):
    colours = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "Screen colours (#rrggbb) to fill the screen with, in order, after the action prompts"
        },
    )
    step_ms = fields.Integer(required=True, metadata={"description": "How long each colour stays on screen"})


class ChallengeSchema(Schema):
    id = fields.UUID(required=True)
    nonce = fields.String(required=True)
    mode = fields.Enum(CheckinMode, by_value=True, required=True)
    visit_id = fields.UUID(allow_none=True)
    expires_at = fields.DateTime(required=True)
    actions = fields.List(
        fields.Nested(PromptSchema), required=True, metadata={"description": "In the order to perform"}
    )
    min_frames = fields.Integer(required=True)
    max_frames = fields.Integer(required=True)
    light = fields.Nested(LightSchema, required=True)


class GpsFixSchema(Schema):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    accuracy_m = fields.Float(required=True, validate=validate.Range(min=0))
    fix_time = fields.DateTime(required=True)
    provider = fields.String(validate=validate.Length(max=32))
    mock_location = fields.Boolean(load_default=False)


class DeviceInfoSchema(Schema):
    model = fields.String(validate=validate.Length(max=100))
    os = fields.String(validate=validate.Length(max=100))
    app_version = fields.String(validate=validate.Length(max=32))


class FrameMetaSchema(Schema):
    captured_at = fields.AwareDateTime(required=True, default_timezone=None)
    action = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(ACTIONS))
    colour = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Regexp(r"^#[0-9a-fA-F]{6}$"),
        metadata={"description": "The colour filling the screen when captured (colour phase); null during prompts"},
    )


class CheckinMetadataSchema(Schema):
    challenge_id = fields.UUID(required=True)
    client_id = fields.String(required=True, validate=validate.Length(min=8, max=64))
    frames = fields.List(
        fields.Nested(FrameMetaSchema), required=True, metadata={"description": "One per frame file, same order"}
    )
    gps = fields.Nested(GpsFixSchema, allow_none=True, load_default=None)
    device = fields.Nested(DeviceInfoSchema, load_default=dict)


class JsonPart(fields.Nested):
    """A multipart form field holding JSON, validated by a nested schema.

    Its size and nesting are bounded before it is parsed: the parser recurses per level.
    """

    MAX_BYTES = 64 * 1024

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("not valid JSON")
        document = value.encode("utf-8", "surrogatepass")
        if len(document) > self.MAX_BYTES:
            raise ValidationError("too_large")
        if json_depth(document) > JSON_MAX_DEPTH:
            raise ValidationError("too_deep")
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ValidationError("not valid JSON") from exc
        return super()._deserialize(value, attr, data, **kwargs)


class CheckinUploadSchema(Schema):
    metadata = JsonPart(CheckinMetadataSchema, required=True, metadata={"description": "JSON: CheckinMetadata"})
    frames = fields.List(
        Upload(),
        required=True,
        metadata={"description": "JPEG frames in capture order, as the camera delivers them (never mirrored)"},
    )


class DeviceMessageSchema(Schema):
    code = fields.String(required=True)
    zh = fields.String(required=True)
    en = fields.String(required=True)


class CheckinStatusSchema(Schema):
    """What the phone sees: never a score."""

    id = fields.UUID(required=True)
    status = fields.String(required=True, metadata={"description": "pending, verified, rejected or review"})
    message = fields.Nested(DeviceMessageSchema, required=True)
    received_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(allow_none=True)


class CheckinSchema(Schema):
    """What staff see."""

    id = fields.UUID(required=True)
    beneficiary_id = fields.UUID(required=True)
    region_code = fields.String(required=True)
    mode = fields.Enum(CheckinMode, by_value=True, required=True)
    state = fields.Enum(CheckinState, by_value=True, required=True)
    reasons = fields.List(fields.String(), required=True)
    scores = fields.Dict(required=True)
    gps = fields.Dict(allow_none=True)
    staff_id = fields.UUID(allow_none=True)
    visit_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(allow_none=True)


class CheckinQuerySchema(Schema):
    region_code = fields.String(validate=validate.Regexp(r"^\d{6}(\d{3}(\d{3})?)?$"))
    state = fields.Enum(CheckinState, by_value=True)
    beneficiary_id = fields.UUID()
    received_from = fields.DateTime()
    received_to = fields.DateTime()


class ReviewVerdictSchema(Schema):
    verdict = fields.String(required=True, validate=validate.OneOf(("verified", "rejected")))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
