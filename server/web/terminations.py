"""Terminations: the list, a termination with its notices and appeal, and the report of disputed death records."""

from __future__ import annotations

import uuid
from functools import partial

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from server import db
from server.services import beneficiaries, terminations
from server.web.access import REVIEWERS, ctx, staff_page
from server.web.lists import stops_page

bp = Blueprint("terminations", __name__)


@bp.get("/terminations")
@staff_page(*REVIEWERS)
@db.transaction
def list_terminations():
    context = ctx()
    fetch = partial(terminations.list_terminations, context, actor=g.actor, beneficiary_id=None)
    return stops_page(context, "terminations/list.html", fetch)


@bp.get("/terminations/<uuid:termination_id>")
@staff_page(*REVIEWERS)
@db.transaction
def termination(termination_id: uuid.UUID):
    context = ctx()
    row = terminations.get_termination(context, actor=g.actor, termination_id=termination_id)
    person = beneficiaries.get_beneficiary(context, actor=g.actor, beneficiary_id=row.beneficiary_id)
    return render_template(
        "terminations/termination.html",
        termination=row,
        person=person,
        notices=terminations.notices_of(context, termination=row),
    )


@bp.post("/terminations/<uuid:termination_id>/appeal")
@staff_page(*REVIEWERS)
@db.transaction
def appeal(termination_id: uuid.UUID):
    context = ctx()
    row = terminations.get_termination(context, actor=g.actor, termination_id=termination_id)
    case = terminations.appeal(context, actor=g.actor, termination=row, reason=request.form.get("reason", ""))
    flash(
        gettext("The appeal is recorded; the case is open again and the person may check in to prove being alive."),
        "info",
    )
    return redirect(url_for("console.cases.case_page", case_id=case.id), 303)


@bp.get("/death-records/disputed")
@staff_page(*REVIEWERS)
@db.transaction
def disputed():
    records = terminations.disputed_records(ctx(), actor=g.actor, source=request.args.get("source") or None)
    return render_template(
        "terminations/disputed.html",
        records=records,
        sources=terminations.per_source(records),
        source=request.args.get("source", ""),
    )


@bp.get("/death-records/disputed.csv")
@staff_page(*REVIEWERS)
@db.transaction
def disputed_csv():
    records = terminations.disputed_records(ctx(), actor=g.actor, source=request.args.get("source") or None)
    return Response(
        terminations.disputed_csv(records),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="disputed-death-records.csv"'},
    )
