"""Changes worth a second look (a further phone issued for a person): the region's supervisors see each one
and mark it seen once they have looked into it."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_babel import gettext

from server import db
from server.db import PageRequest
from server.services import staff_notifications
from server.web.access import REVIEWERS, ctx, staff_page
from server.web.lists import page_number, people_of, staff_names

bp = Blueprint("alerts", __name__)
PAGE_SIZE = 50


@bp.get("/alerts")
@staff_page(*REVIEWERS)
@db.transaction
def alerts():
    context = ctx()
    page = page_number()
    items, total = staff_notifications.list_notifications(
        context, actor=g.actor, page=PageRequest(offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    )
    return render_template(
        "alerts/list.html",
        items=items,
        people=people_of(context, items),
        staff_names=staff_names(context),
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
    )


@bp.post("/alerts/<uuid:notification_id>/seen")
@staff_page(*REVIEWERS)
@db.transaction
def seen(notification_id: uuid.UUID):
    staff_notifications.mark_seen(ctx(), actor=g.actor, notification_id=notification_id)
    flash(gettext("Marked as seen."), "info")
    return redirect(url_for(".alerts"), 303)
