from __future__ import annotations

from marshmallow import fields, validate

from server.models import StaffRole
from server.schemas.common import Schema


class StaffNotificationSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True, metadata={"description": "device_added: a further phone was issued"})
    beneficiary_id = fields.UUID(allow_none=True)
    region_code = fields.String(required=True)
    created_by = fields.UUID(allow_none=True)
    created_at = fields.DateTime(required=True)
    details = fields.Dict(required=True)


class StaffUserSchema(Schema):
    id = fields.UUID(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.Enum(StaffRole, by_value=True, required=True)
    region_code = fields.String(required=True)
    is_active = fields.Boolean(required=True)
    last_login_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)


class StaffCreateSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))
    role = fields.Enum(StaffRole, by_value=True, required=True)
    region_code = fields.String(required=True, validate=validate.Length(min=6, max=12))
    display_name = fields.String(validate=validate.Length(min=1, max=100))


class StaffUpdateSchema(Schema):
    reason = fields.String(
        required=True, validate=validate.Length(min=1), metadata={"description": "Kept in the audit log"}
    )
    role = fields.Enum(StaffRole, by_value=True)
    region_code = fields.String(validate=validate.Length(min=6, max=12))
    display_name = fields.String(validate=validate.Length(min=1, max=100))
    is_active = fields.Boolean(metadata={"description": "false disables the account and revokes its tokens"})


class PasswordResetSchema(Schema):
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))
    reason = fields.String(
        required=True, validate=validate.Length(min=1), metadata={"description": "Kept in the audit log"}
    )


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))
