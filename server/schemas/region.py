from __future__ import annotations

from marshmallow import fields, validate

from server.models import RegionLevel
from server.schemas.common import Schema


class RegionCreateSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^\d{6}(\d{3}(\d{3})?)?$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class RegionSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    level = fields.Enum(RegionLevel, by_value=True, required=True)
    parent_code = fields.String(allow_none=True)


class RegionQuerySchema(Schema):
    level = fields.Enum(RegionLevel, by_value=True)
