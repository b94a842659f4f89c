"""Staff accounts and the notices staff see."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from server import db
from server.api.access import ctx, current_actor, staff_only
from server.api.errors import answers
from server.api.paging import Blueprint
from server.models import StaffRole
from server.schemas.auth import TokenSchema
from server.schemas.staff import (
    PasswordChangeSchema,
    PasswordResetSchema,
    StaffCreateSchema,
    StaffNotificationSchema,
    StaffUpdateSchema,
    StaffUserSchema,
)
from server.services import auth, staff, staff_notifications

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
            ctx(),
            actor=current_actor(),
            page=pagination_parameters.rows,
        )
        items = pagination_parameters.page_of(items, total)
        return items


@blp.route("/staff")
class StaffAccounts(MethodView):
    @staff_only(StaffRole.ADMIN)
    @blp.response(200, StaffUserSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Staff accounts in your region (admins only)."""
        items, total = staff.list_staff(
            ctx(),
            actor=current_actor(),
            page=pagination_parameters.rows,
        )
        items = pagination_parameters.page_of(items, total)
        return items

    @staff_only(StaffRole.ADMIN)
    @db.transaction
    @answers(409)
    @blp.arguments(StaffCreateSchema)
    @blp.response(201, StaffUserSchema)
    def post(self, body: dict):
        """Create an account in a region inside yours; audited."""
        return staff.create_staff_user(ctx(), actor=current_actor(), **body)


@blp.route("/staff/<uuid:user_id>")
class StaffAccount(MethodView):
    @staff_only(StaffRole.ADMIN)
    @answers(404)
    @blp.response(200, StaffUserSchema)
    def get(self, user_id: uuid.UUID):
        """One account in your region."""
        return staff.get_staff_user(ctx(), actor=current_actor(), user_id=user_id)

    @staff_only(StaffRole.ADMIN)
    @db.transaction
    @answers(404, 409)
    @blp.arguments(StaffUpdateSchema)
    @blp.response(200, StaffUserSchema)
    def patch(self, body: dict, user_id: uuid.UUID):
        """Change role, region or name, or disable the account (its tokens stop working at once); audited."""
        context = ctx()
        user = staff.get_staff_user(context, actor=current_actor(), user_id=user_id)
        reason = body.pop("reason")
        staff.update_staff_user(context, actor=current_actor(), user=user, changes=body, reason=reason)
        return user


@blp.route("/staff/<uuid:user_id>/password")
class StaffPasswordReset(MethodView):
    @staff_only(StaffRole.ADMIN)
    @db.transaction
    @answers(404)
    @blp.arguments(PasswordResetSchema)
    @blp.response(204)
    def post(self, body: dict, user_id: uuid.UUID):
        """Reset someone's password; every token they hold stops working. Audited (never the password)."""
        context = ctx()
        user = staff.get_staff_user(context, actor=current_actor(), user_id=user_id)
        staff.reset_password(
            context, actor=current_actor(), user=user, password=body["password"], reason=body["reason"]
        )


@blp.route("/me/password")
class OwnPassword(MethodView):
    @staff_only()
    @db.transaction
    @blp.arguments(PasswordChangeSchema)
    @blp.response(200, TokenSchema)
    def post(self, body: dict):
        """Change your own password; your other tokens stop working and a new token is returned."""
        context = ctx()
        user = staff.change_own_password(
            context, actor=current_actor(), current=body["current_password"], new=body["new_password"]
        )
        return auth.issue_staff_token(context, user=user)
