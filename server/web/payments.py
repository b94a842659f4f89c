"""Payment runs: build one for a period and region (a job: a page that refreshes until it is built), its totals
per category, CSV and XLSX downloads."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from server import db
from server.models import JobState
from server.queue import enqueue
from server.services import imports, jobs, payments, recoveries
from server.services.errors import DomainError, NotFound
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
def build():
    period = request.form.get("period", "").strip()
    if len(period) != 7 or period[4] != "-":
        raise DomainError.field("period", "invalid")
    context, region_code = ctx(), request.form.get("region") or g.actor.region_code
    with db.unit_of_work(context.session):
        existing = payments.check_build(context, actor=g.actor, period=period, region_code=region_code)
    if existing is not None:
        flash(gettext("This run existed already; here it is."), "info")
        return redirect(url_for(".run", run_id=existing.id), 303)
    job = jobs.start_job(
        context,
        actor=g.actor,
        kinds=imports.KINDS,
        kind=payments.BUILD,
        data=b"",
        params={"period": period, "region": region_code},
        ring=enqueue,
    )
    return redirect(url_for(".building", job_id=job.id), 303)


# The page asks again this often (an HTTP Refresh header: no script) until the build is done.
REFRESH_SECONDS = 1


@bp.get("/payment-runs/building/<uuid:job_id>")
@staff_page(*REVIEWERS)
@db.transaction
def building(job_id: uuid.UUID):
    context = ctx()
    job = jobs.get_job(context, actor=g.actor, job_id=job_id)
    if job.kind != payments.BUILD:
        raise NotFound("job not found", {"job_id": ["not_found"]})
    if job.state == JobState.DONE:
        result = jobs.job_result(context, job=job)
        built = result["counts"].get("built")
        flash(gettext("The run is built.") if built else gettext("This run existed already; here it is."), "info")
        return redirect(url_for(".run", run_id=payments.built_run(context, actor=g.actor, result=result).id), 303)
    failed = job.state == JobState.FAILED
    page = render_template("payments/building.html", job=job, params=job.params, failed=failed)
    return page if failed else Response(page, headers={"Refresh": str(REFRESH_SECONDS)})


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
    # Sent as the lines are read, after the view's unit (the audit entry) has committed.
    return Response(
        db.streamed(context.session, content),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
