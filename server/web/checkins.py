"""Check-ins the worker sent to review: the same evidence view as a case, and a verdict with a reason."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from server import db
from server.db import PageRequest
from server.models import Beneficiary, CheckinState
from server.services import beneficiaries, checkins, enrolment, verification
from server.services.errors import DomainError
from server.web.access import REVIEWERS, ctx, staff_page
from server.web.evidence import fix_picture
from server.web.lists import page_number

bp = Blueprint("checkins", __name__)
PAGE_SIZE = 50


@bp.get("/checkins")
@staff_page(*REVIEWERS)
@db.transaction
def review_list():
    context = ctx()
    page = page_number()
    items, total = checkins.list_checkins(
        context,
        actor=g.actor,
        filters={"state": CheckinState.REVIEW},
        page=PageRequest(offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE),
        # Worked through in turn: the one waiting longest comes first.
        oldest_first=True,
    )
    people = {
        b.id: b
        for b in context.session.query(Beneficiary).filter(Beneficiary.id.in_([c.beneficiary_id for c in items]))
    }
    return render_template(
        "checkins/list.html", items=items, people=people, total=total, page=page, pages=max(1, -(-total // PAGE_SIZE))
    )


@bp.get("/checkins/<uuid:checkin_id>")
@staff_page(*REVIEWERS)
@db.transaction
def checkin_page(checkin_id: uuid.UUID):
    context = ctx()
    checkin = checkins.get_checkin(context, actor=g.actor, checkin_id=checkin_id)
    person = beneficiaries.get_beneficiary(context, actor=g.actor, beneficiary_id=checkin.beneficiary_id)
    reason = request.args.get("reason", "").strip()
    every = request.args.get("frames") == "all"
    frames, total = checkins.frames_for_review(context, checkin=checkin, every=every)
    return render_template(
        "checkins/checkin.html",
        checkin=checkin,
        person=person,
        photos=[p for p in enrolment.photos_of(context, beneficiary_id=person.id) if p.state.value == "encoded"],
        frames=frames,
        # Each further frame opened is one more audited view, under the same reason.
        every_frame_url=url_for(".checkin_page", checkin_id=checkin.id, reason=reason, frames="all")
        if reason and len(frames) < total
        else None,
        total_frames=total,
        picture=fix_picture(person, checkin.gps),
        reason=reason,
    )


@bp.post("/checkins/<uuid:checkin_id>/decision")
@staff_page(*REVIEWERS)
@db.transaction
def decide(checkin_id: uuid.UUID):
    context = ctx()
    checkin = checkins.get_checkin(context, actor=g.actor, checkin_id=checkin_id)
    verdict = request.form.get("verdict")
    if verdict not in ("verified", "rejected"):
        raise DomainError.field("verdict", "required")
    verification.decide_review(
        context,
        actor=g.actor,
        checkin=checkin,
        verdict=CheckinState(verdict),
        reason=request.form.get("reason", ""),
    )
    flash(gettext("The verdict is recorded."), "info")
    return redirect(url_for(".checkin_page", checkin_id=checkin.id), 303)
