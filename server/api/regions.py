"""Administrative regions."""

from __future__ import annotations

from flask.views import MethodView

from server import db
from server.api.access import ctx, current_actor, staff_only
from server.api.errors import answers
from server.api.paging import Blueprint
from server.models import StaffRole
from server.schemas.region import RegionCreateSchema, RegionQuerySchema, RegionSchema
from server.services import regions
from server.services.errors import NotFound

blp = Blueprint("regions", __name__, url_prefix="/api/v1", description="Counties, townships and villages")


@blp.route("/regions")
class Regions(MethodView):
    @staff_only()
    @blp.arguments(RegionQuerySchema, location="query")
    @blp.response(200, RegionSchema(many=True))
    def get(self, query: dict):
        """Your region and every region inside it."""
        return regions.regions_in_scope(ctx(), region_code=current_actor().region_code, level=query.get("level"))

    @staff_only(StaffRole.ADMIN)
    @answers(404, 409)
    @db.transaction
    @blp.arguments(RegionCreateSchema)
    @blp.response(201, RegionSchema)
    def post(self, body: dict):
        """Add a township or village inside your region (its parent must exist)."""
        actor = current_actor()
        if not regions.within(actor.region_code, body["code"]) or body["code"] == actor.region_code:
            raise NotFound("parent region not found", {"code": ["outside_your_region"]})
        region = regions.create_region(ctx(), actor=actor, code=body["code"], name=body["name"])
        return region
