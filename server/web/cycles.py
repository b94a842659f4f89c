"""Check-in cycles: the list with status counts, creating one, and generating a year's standard cycles."""

from __future__ import annotations

import uuid

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from server import db
from server.db import PageRequest
from server.models import CycleFrequency, Program
from server.services import cycles, reminders
from server.services.errors import DomainError
from server.web.access import REVIEWERS, ctx, staff_page
from server.web.periods import date_arg, today

bp = Blueprint("cycles", __name__)


def _zone():
    return cycles.office_zone(current_app.config["FIELDCHECK"])


@bp.get("/cycles")
@staff_page(*REVIEWERS)
@db.transaction
def list_cycles():
    context = ctx()
    items, _ = cycles.list_cycles(context, actor=g.actor, page=PageRequest(limit=40))
    # Status counts scan everyone due (seconds at a county of 150,000): one cycle's page, not the list.
    return render_template(
        "cycles/list.html",
        items=items,
        year=today().year,
        grace=current_app.config["FIELDCHECK"].cycles.grace_days,
    )


@bp.get("/cycles/<uuid:cycle_id>")
@staff_page(*REVIEWERS)
@db.transaction
def cycle_page(cycle_id: uuid.UUID):
    context = ctx()
    cycle = cycles.get_cycle(context, actor=g.actor, cycle_id=cycle_id)
    return render_template(
        "cycles/cycle.html",
        status=cycles.tallied_status(context, actor=g.actor, cycle=cycle, zone=_zone()),
        reminders=reminders.tallied_counts_per_step(context, actor=g.actor, cycle=cycle),
    )


@bp.post("/cycles/<uuid:cycle_id>/recount")
@staff_page(*REVIEWERS)
@db.transaction
def recount(cycle_id: uuid.UUID):
    context = ctx()
    cycle = cycles.get_cycle(context, actor=g.actor, cycle_id=cycle_id)
    cycles.tallied_status(context, actor=g.actor, cycle=cycle, zone=_zone(), recount=True)
    reminders.tallied_counts_per_step(context, actor=g.actor, cycle=cycle, recount=True)
    return redirect(url_for(".cycle_page", cycle_id=cycle.id), 303)


def _choices():
    try:
        frequency = CycleFrequency(request.form.get("frequency", "quarterly"))
        program = Program(request.form["program"]) if request.form.get("program") else None
    except ValueError as exc:
        raise DomainError.field("frequency", "invalid") from exc
    return frequency, program


@bp.post("/cycles")
@staff_page(*REVIEWERS)
@db.transaction
def create():
    frequency, program = _choices()
    cycles.create_cycle(
        ctx(),
        actor=g.actor,
        region_code=request.form.get("region") or g.actor.region_code,
        program=program,
        frequency=frequency,
        opens_on=date_arg("opens_on", request.form),
        deadline=date_arg("deadline", request.form),
        grace_days=request.form.get("grace_days", type=int) or current_app.config["FIELDCHECK"].cycles.grace_days,
        today=today(),
    )
    flash(gettext("The cycle is created."), "info")
    return redirect(url_for(".list_cycles"), 303)


@bp.post("/cycles/generate")
@staff_page(*REVIEWERS)
@db.transaction
def generate():
    frequency, program = _choices()
    created, skipped = cycles.generate_cycles(
        ctx(),
        actor=g.actor,
        region_code=request.form.get("region") or g.actor.region_code,
        year=request.form.get("year", type=int) or today().year,
        frequency=frequency,
        program=program,
        grace_days=current_app.config["FIELDCHECK"].cycles.grace_days,
        today=today(),
    )
    flash(
        gettext("%(created)s cycles created, %(skipped)s skipped.", created=len(created), skipped=len(skipped)), "info"
    )
    return redirect(url_for(".list_cycles"), 303)
