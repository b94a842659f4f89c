from __future__ import annotations

from marshmallow import fields

from server.models import JobState
from server.schemas.common import Schema


class JobSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.String(
        required=True, metadata={"description": "roster_import, death_import, evidence_import or payment_run"}
    )
    state = fields.Enum(JobState, by_value=True, required=True)
    done = fields.Integer(
        required=True, metadata={"description": "items (rows; a payment run is 1) done and committed"}
    )
    total = fields.Integer(allow_none=True, metadata={"description": "items in the input, once the worker counted"})
    result_url = fields.String(allow_none=True, metadata={"description": "where the report is, once done"})
    error = fields.String(allow_none=True, metadata={"description": "why the job failed as a whole"})
