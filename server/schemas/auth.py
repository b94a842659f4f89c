"""Login, device activation and the caller's own identity."""

from __future__ import annotations

from marshmallow import fields, validate

from server.schemas.common import Schema


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class ActivationSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=8, max=32))
    consent_version = fields.String(
        required=True,
        validate=validate.Length(min=1, max=32),
        metadata={"description": "Version of the biometric consent text (GET /consent/biometric) agreed to"},
    )


class ConsentTextSchema(Schema):
    version = fields.String(required=True)
    purpose_zh = fields.String(required=True)
    purpose_en = fields.String(required=True)
    text_zh = fields.List(fields.String(), required=True, metadata={"description": "Paragraphs"})
    text_en = fields.List(fields.String(), required=True)


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.Constant("Bearer")
    expires_at = fields.DateTime(required=True)
    kind = fields.String(attribute="actor.kind", required=True)


class ActorSchema(Schema):
    kind = fields.String(required=True, metadata={"description": "staff or device"})
    id = fields.String(required=True)
    role = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)
    beneficiary_id = fields.String(allow_none=True)


class DeviceCodeRequestSchema(Schema):
    label = fields.String(validate=validate.Length(max=100), metadata={"description": "e.g. 'daughter's phone'"})


class DeviceCodeSchema(Schema):
    device_id = fields.UUID(required=True)
    activation_code = fields.String(required=True, metadata={"description": "Shown once; give it to the beneficiary."})
    expires_at = fields.DateTime(required=True)
    activation_url = fields.String(
        required=True,
        metadata={"description": "Opens the phone app with the code filled in; the code stays in the #fragment"},
    )


class ActivationLinkRequestSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=8, max=32))
    format = fields.String(load_default="svg", validate=validate.OneOf(("svg", "png")))


class DeviceSchema(Schema):
    id = fields.UUID(required=True)
    label = fields.String(allow_none=True)
    issued_by = fields.UUID(required=True)
    created_at = fields.DateTime(required=True)
    activation_expires_at = fields.DateTime(required=True)
    activated_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
