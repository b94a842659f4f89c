from __future__ import annotations

from marshmallow import Schema, fields


class StaffNotificationSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True, metadata={"description": "device_added: a further phone was issued"})
    beneficiary_id = fields.UUID(allow_none=True)
    region_code = fields.String(required=True)
    created_by = fields.UUID(allow_none=True)
    created_at = fields.DateTime(required=True)
    details = fields.Dict(required=True)
