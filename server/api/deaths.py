"""Death records from the civil registry or a funeral service."""

from __future__ import annotations

from flask.views import MethodView

from server.api.access import current_actor, staff_only
from server.api.errors import answers
from server.api.jobs import start as start_job
from server.api.paging import Blueprint
from server.models import StaffRole
from server.schemas.death import DeathUploadSchema
from server.schemas.job import JobSchema
from server.services import imports

blp = Blueprint("deaths", __name__, url_prefix="/api/v1", description="Death-record imports")


@blp.route("/death-records/import")
class DeathImport(MethodView):
    @staff_only(StaffRole.ADMIN, StaffRole.SUPERVISOR)
    # No @db.transaction: the job commits before the worker is told (see api.jobs.start).
    @answers(413)
    @blp.arguments(DeathUploadSchema, location="files")
    @blp.response(202, JobSchema)
    def post(self, files: dict):
        """Import death records: each match opens a death_record case proposing termination from the date of
        death and flags payments for later months. A row already imported changes nothing. Runs as a job:
        poll `GET /jobs/{id}`, then read the report at its `result_url`."""
        return start_job(current_actor(), imports.DEATHS, files["file"].read())
