"""Death records from the civil registry or a funeral service."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from server import db
from server.api.access import ctx, current_actor, staff_only
from server.api.errors import answers
from server.models import StaffRole
from server.schemas.death import DeathImportReportSchema, DeathUploadSchema
from server.services import deaths

blp = Blueprint("deaths", __name__, url_prefix="/api/v1", description="Death-record imports")


@blp.route("/death-records/import")
class DeathImport(MethodView):
    @staff_only(StaffRole.ADMIN, StaffRole.SUPERVISOR)
    @answers(413)
    @db.transaction
    @blp.arguments(DeathUploadSchema, location="files")
    @blp.response(200, DeathImportReportSchema)
    def post(self, files: dict):
        """Import death records: each match opens a death_record case proposing termination from the date of
        death and flags payments for later months. A row already imported changes nothing."""
        return deaths.import_deaths(ctx(), actor=current_actor(), rows=deaths.read_death_records(files["file"].read()))
