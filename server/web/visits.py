"""Home visits: the list with flags, and per-worker flag rates that show desk-fabricated rounds."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request

from server import db
from server.db import PageRequest
from server.services import visits
from server.web.access import REVIEWERS, ctx, staff_page
from server.web.lists import page_number

bp = Blueprint("visits", __name__)
PAGE_SIZE = 50


@bp.get("/visits")
@staff_page(*REVIEWERS)
@db.transaction
def list_visits():
    context = ctx()
    page = page_number()
    filters = {"flag": request.args.get("flag") or None, "flagged": True if request.args.get("flagged") else None}
    items, total = visits.list_visits(
        context, actor=g.actor, filters=filters, page=PageRequest(offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    )
    return render_template(
        "visits/list.html",
        shown=visits.shown_to(context, actor=g.actor, visits=items),
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        stats=visits.team_stats(context, actor=g.actor, started_from=None, started_to=None, region_code=None),
        args=request.args,
    )
