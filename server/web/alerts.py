"""Changes worth a second look (a further phone issued for a person): the region's supervisors see each one
and mark it seen once they have looked into it."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, g, redirect, url_for
from flask_babel import gettext

from server import db
from server.services import staff_notifications
from server.web.access import REVIEWERS, ctx, staff_page
from server.web.lists import queue_page

bp = Blueprint("alerts", __name__)


@bp.get("/alerts")
@staff_page(*REVIEWERS)
@db.transaction
def alerts():
    context = ctx()
    return queue_page(
        context,
        "alerts/list.html",
        lambda page: staff_notifications.list_notifications(context, actor=g.actor, page=page),
    )


@bp.post("/alerts/<uuid:notification_id>/seen")
@staff_page(*REVIEWERS)
@db.transaction
def seen(notification_id: uuid.UUID):
    staff_notifications.mark_seen(ctx(), actor=g.actor, notification_id=notification_id)
    flash(gettext("Marked as seen."), "info")
    return redirect(url_for(".alerts"), 303)
