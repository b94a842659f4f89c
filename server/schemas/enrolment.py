from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import fields

from server.models import PhotoState
from server.schemas.common import Schema


class PhotoUploadSchema(Schema):
    photos = fields.List(Upload(), required=True, metadata={"description": "1 to 5 JPEG, PNG or WebP photos"})


class PhotoUploadOptionsSchema(Schema):
    replace = fields.Boolean(load_default=False, metadata={"description": "Retire the current photos (re-enrolment)"})


class EnrolmentPhotoSchema(Schema):
    id = fields.UUID(required=True)
    state = fields.Enum(PhotoState, by_value=True, required=True)
    failure_reason = fields.String(allow_none=True)
    width = fields.Integer(required=True)
    height = fields.Integer(required=True)
    quality = fields.Dict(required=True, metadata={"description": "face box and quality metrics measured at upload"})
    created_at = fields.DateTime(required=True)


class EnrolmentSchema(Schema):
    beneficiary_id = fields.UUID(required=True)
    state = fields.String(required=True, metadata={"description": "not_enrolled, processing, enrolled or failed"})
    photos = fields.List(fields.Nested(EnrolmentPhotoSchema), required=True)


class PhotoViewQuerySchema(Schema):
    reason = fields.String(required=True, metadata={"description": "Why you are looking; kept in the audit log."})
