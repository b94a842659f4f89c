"""The overview at `/`: the coverage offices report upward (建模打卡率), open and overdue cases, and a chart."""

from __future__ import annotations

from flask import Blueprint, Response, g, redirect, render_template, request, url_for

from server import db
from server.db import PageRequest
from server.services import cases, coverage, photo_changes, staff_notifications
from server.web.access import REVIEWERS, ctx, staff_page
from server.web.periods import current_quarter, date_arg, today

bp = Blueprint("overview", __name__)


def _query():
    first, last = current_quarter()
    first = date_arg("from", default=first)
    last = date_arg("to", default=last)
    region = request.args.get("region") or g.actor.region_code
    return region, first, last


@bp.get("/")
@staff_page(*REVIEWERS)
@db.transaction
def overview():
    region, first, last = _query()
    context = ctx()
    rows, total, counted_at = coverage.tallied_coverage(
        context, actor=g.actor, region_code=region, first=first, last=last
    )
    open_by_kind, overdue = cases.open_and_overdue(context, actor=g.actor, region=region, today=today())
    _, photo_changes_waiting = photo_changes.pending_changes(context, actor=g.actor, page=PageRequest(limit=0))
    alerts_unseen = staff_notifications.unseen_count(context, actor=g.actor)
    chart = {
        "labels": [row.name for row in rows],
        "enrolled": [float(row.rate(row.enrolled) or 0) for row in rows],
        "checked_in": [float(row.rate(row.checked_in) or 0) for row in rows],
        "verified": [float(row.rate(row.verified) or 0) for row in rows],
    }
    return render_template(
        "overview.html",
        rows=rows,
        total=total,
        first=first,
        last=last,
        region=region,
        open_by_kind=open_by_kind,
        overdue=overdue,
        photo_changes_waiting=photo_changes_waiting,
        alerts_unseen=alerts_unseen,
        chart=chart,
        counted_at=counted_at,
    )


@bp.post("/overview/recount")
@staff_page(*REVIEWERS)
@db.transaction
def recount():
    region, first, last = _query()
    coverage.tallied_coverage(ctx(), actor=g.actor, region_code=region, first=first, last=last, recount=True)
    return redirect(url_for(".overview", **request.args), 303)


@bp.get("/overview.csv")
@staff_page(*REVIEWERS)
@db.transaction
def overview_csv():
    region, first, last = _query()
    context = ctx()
    rows, total = coverage.coverage(context, actor=g.actor, region_code=region, first=first, last=last)
    content = coverage.coverage_csv(context, actor=g.actor, rows=rows, total=total, first=first, last=last)
    filename = f"coverage-{region}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(content, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})
