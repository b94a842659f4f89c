"""A blueprint that reads a multipart body's fields and files through one schema.

flask-smorest documents one request body per operation: reading the form fields and the files
with two schemas documented the fields as a Swagger 2 `in: formData` parameter, which OpenAPI 3
does not have. One schema over both describes the whole multipart body.
"""

from __future__ import annotations

from typing import Any

import flask
import flask_smorest
from marshmallow import Schema
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from server.api import paging


class MultipartParser(FlaskParser):
    __location_map__ = dict(multipart="load_multipart", **FlaskParser.__location_map__)

    def load_multipart(self, req: flask.Request, schema: Schema) -> Any:
        """Form fields and files of a multipart body as one mapping."""
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class Blueprint(paging.Blueprint):
    """The API's Blueprint (server.api.paging) with a `multipart` argument location."""

    ARGUMENTS_PARSER = MultipartParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }
