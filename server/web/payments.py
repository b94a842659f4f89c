"""Payment runs: build one for a period and region, its totals per category, CSV and XLSX downloads."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from server import db
from server.services import payments
from server.services.deaths import PAID_AFTER_DEATH
from server.services.errors import DomainError
from server.services.months import period_of
from server.web.access import REVIEWERS, staff_page
from server.web.periods import today

bp = Blueprint("payments", __name__)


@bp.get("/payment-runs")
@staff_page(*REVIEWERS)
def runs():
    session = db.session()
    return render_template(
        "payments/runs.html",
        items=payments.list_runs(session, actor=g.actor, period=request.args.get("period") or None),
        recovery=payments.recovery_list(session, actor=g.actor, flag=PAID_AFTER_DEATH),
        this_month=period_of(today()),
    )


@bp.post("/payment-runs")
@staff_page(*REVIEWERS)
def build():
    period = request.form.get("period", "").strip()
    if len(period) != 7 or period[4] != "-":
        raise DomainError.field("period", "invalid")
    run, created = payments.build_run(
        db.session(), actor=g.actor, period=period, region_code=request.form.get("region") or g.actor.region_code
    )
    flash(gettext("The run is built.") if created else gettext("This run existed already; here it is."), "info")
    return redirect(url_for(".run", run_id=run.id), 303)


@bp.get("/payment-runs/<uuid:run_id>")
@staff_page(*REVIEWERS)
def run(run_id: uuid.UUID):
    return render_template("payments/run.html", run=payments.get_run(db.session(), actor=g.actor, run_id=run_id))


@bp.get("/payment-runs/<uuid:run_id>/export.<any(csv, xlsx):fmt>")
@staff_page(*REVIEWERS)
def export(run_id: uuid.UUID, fmt: str):
    session = db.session()
    content, mimetype, filename = payments.export(
        session, actor=g.actor, run=payments.get_run(session, actor=g.actor, run_id=run_id), fmt=fmt
    )
    session.commit()
    return Response(content, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
