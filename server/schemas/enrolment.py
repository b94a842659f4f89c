from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import fields

from server.models import PhotoChangeKind, PhotoChangeStatus, PhotoState
from server.schemas.common import Schema


class PhotoUploadSchema(Schema):
    photos = fields.List(Upload(), required=True, metadata={"description": "1 to 5 JPEG, PNG or WebP photos"})


class PhotoUploadOptionsSchema(Schema):
    replace = fields.Boolean(load_default=False, metadata={"description": "Retire the current photos (re-enrolment)"})
    reason = fields.String(
        metadata={"description": "Why the photos of an enrolled person change; their change needs a second person"}
    )


class PhotoRetireQuerySchema(Schema):
    reason = fields.String(metadata={"description": "Why the photo should stop counting"})


class PhotoChangeSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.Enum(PhotoChangeKind, by_value=True, required=True)
    status = fields.Enum(PhotoChangeStatus, by_value=True, required=True)
    proposed_by = fields.UUID(required=True)
    reason = fields.String(required=True)
    retire_photo_ids = fields.List(fields.UUID(), required=True)
    reviewed_by = fields.UUID(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    review_reason = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class PhotoChangeReviewSchema(Schema):
    reason = fields.String(metadata={"description": "Required to reject; kept in the audit log"})


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
    pending_change = fields.Nested(
        PhotoChangeSchema,
        allow_none=True,
        metadata={"description": "A change to an enrolled person's photos waiting for a second person's approval"},
    )


class PhotoViewQuerySchema(Schema):
    reason = fields.String(required=True, metadata={"description": "Why you are looking; kept in the audit log."})
