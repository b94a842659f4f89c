"""Staff accounts and the notices staff see."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from server import db
from server.api.access import current_actor, staff_only
from server.models import StaffRole
from server.schemas.staff import StaffNotificationSchema
from server.services import staff_notifications

blp = Blueprint("staff", __name__, url_prefix="/api/v1", description="Staff accounts and notices for staff")
REVIEWERS = (StaffRole.ADMIN, StaffRole.SUPERVISOR)


@blp.route("/staff-notifications")
class StaffNotifications(MethodView):
    @staff_only(*REVIEWERS)
    @blp.response(200, StaffNotificationSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Changes in your region worth a second look (a further phone issued for a person), newest first."""
        items, total = staff_notifications.list_notifications(
            db.session(),
            actor=current_actor(),
            offset=pagination_parameters.first_item,
            limit=pagination_parameters.page_size,
        )
        pagination_parameters.item_count = total
        return items
