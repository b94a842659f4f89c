"""Payment runs: build one for a period and region, its totals per category, CSV and XLSX downloads."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from server import db
from server.services import payments, recoveries
from server.services.errors import DomainError
from server.services.months import period_of
from server.web.access import REVIEWERS, ctx, staff_page
from server.web.periods import today

bp = Blueprint("payments", __name__)


@bp.get("/payment-runs")
@staff_page(*REVIEWERS)
@db.transaction
def runs():
    context = ctx()
    return render_template(
        "payments/runs.html",
        items=payments.list_runs(context, actor=g.actor, period=request.args.get("period") or None),
        recovery=recoveries.recoveries(context, actor=g.actor, region_code=g.actor.region_code),
        this_month=period_of(today()),
    )


@bp.post("/payment-runs")
@staff_page(*REVIEWERS)
@db.transaction
def build():
    period = request.form.get("period", "").strip()
    if len(period) != 7 or period[4] != "-":
        raise DomainError.field("period", "invalid")
    run, created = payments.build_run(
        ctx(), actor=g.actor, period=period, region_code=request.form.get("region") or g.actor.region_code
    )
    flash(gettext("The run is built.") if created else gettext("This run existed already; here it is."), "info")
    return redirect(url_for(".run", run_id=run.id), 303)


@bp.get("/payment-runs/<uuid:run_id>")
@staff_page(*REVIEWERS)
@db.transaction
def run(run_id: uuid.UUID):
    return render_template("payments/run.html", run=payments.get_run(ctx(), actor=g.actor, run_id=run_id))


@bp.get("/payment-runs/<uuid:run_id>/export.<any(csv, xlsx):fmt>")
@staff_page(*REVIEWERS)
@db.transaction
def export(run_id: uuid.UUID, fmt: str):
    context = ctx()
    content, mimetype, filename = payments.export(
        context, actor=g.actor, run=payments.get_run(context, actor=g.actor, run_id=run_id), fmt=fmt
    )
    return Response(content, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
