"""The API's index at /api/v1."""

from __future__ import annotations

from marshmallow import fields

from server.schemas.common import Schema


class ApiIndexSchema(Schema):
    name = fields.String(required=True)
    version = fields.String(required=True)
    docs = fields.String(required=True, metadata={"description": "Swagger UI"})
    openapi = fields.String(required=True, metadata={"description": "The OpenAPI document"})
    login = fields.String(required=True, metadata={"description": "POST a username and password for a token"})
