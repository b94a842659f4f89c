"""flask-smorest's ETag checks, answering 428 and 412 with a message that says what to do.

flask-smorest raises a bare 428 or 412 from inside its decorator and `check_etag`; these overrides
raise FieldCheck's own errors at the same two points, so the error handler gives them a message and
a reason code like every other refusal.
"""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from werkzeug.exceptions import PreconditionFailed as EtagMismatch

from server.services.errors import PreconditionFailed, PreconditionRequired


class EtagBlueprint(Blueprint):
    """A Blueprint whose If-Match refusals carry a message and a reason code."""

    def _check_precondition(self) -> None:
        if request.method in self.METHODS_NEEDING_CHECK_ETAG and not request.if_match:
            raise PreconditionRequired(
                "send If-Match with the ETag of your last GET of this resource, so you cannot overwrite "
                "a change you have not seen",
                {"_": ["if_match_required"]},
            )

    def check_etag(self, etag_data, etag_schema=None) -> None:
        try:
            super().check_etag(etag_data, etag_schema)
        except EtagMismatch as exc:
            raise PreconditionFailed(
                "this resource changed since you read it; GET it again, check the change, and retry with its new ETag",
                {"_": ["stale_etag"]},
            ) from exc
