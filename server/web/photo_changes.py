"""Proposed changes to enrolled people's photos: the queue, the photos in use beside the proposed ones, and
the second person's approval or refusal."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from server import db
from server.models import PhotoChangeKind, PhotoChangeStatus, PhotoState
from server.queue import enqueue
from server.services import beneficiaries, enrolment, photo_changes
from server.web.access import REVIEWERS, ctx, staff_page
from server.web.lists import queue_page, staff_names

bp = Blueprint("photo_changes", __name__)


@bp.get("/photo-changes")
@staff_page(*REVIEWERS)
@db.transaction
def pending():
    context = ctx()
    return queue_page(
        context,
        "photo_changes/list.html",
        lambda page: photo_changes.pending_changes(context, actor=g.actor, page=page),
    )


@bp.get("/people/<uuid:beneficiary_id>/photo-changes/<uuid:change_id>")
@staff_page(*REVIEWERS)
@db.transaction
def change_page(beneficiary_id: uuid.UUID, change_id: uuid.UUID):
    context = ctx()
    person = beneficiaries.get_beneficiary(context, actor=g.actor, beneficiary_id=beneficiary_id)
    change = photo_changes.get_change(context, beneficiary=person, change_id=change_id)
    photos = enrolment.photos_of(context, beneficiary_id=person.id)
    pending = change.status == PhotoChangeStatus.PENDING
    # A change's own photos are shown once, as sent with it (once approved they are in use too: one audited view
    # of each, not two).
    in_use = [p for p in photos if p.state == PhotoState.ENCODED and p.change_id != change.id]
    # What approving would take out of matching: every photo in use for a replacement, the named ones for a
    # retirement (nothing once the change is decided).
    leaving: set[uuid.UUID] = set()
    if pending:
        leaving = {
            PhotoChangeKind.REPLACE: {p.id for p in in_use},
            PhotoChangeKind.RETIRE: {uuid.UUID(p) for p in change.retire_photo_ids},
        }.get(change.kind, set())
    return render_template(
        "photo_changes/change.html",
        person=person,
        change=change,
        pending=pending,
        in_use=in_use,
        leaving=leaving,
        proposed=[p for p in photos if p.change_id == change.id],
        staff_names=staff_names(context),
        reason=request.args.get("reason", "").strip(),
    )


@bp.post("/people/<uuid:beneficiary_id>/photo-changes/<uuid:change_id>/approve")
@staff_page(*REVIEWERS)
def approve(beneficiary_id: uuid.UUID, change_id: uuid.UUID):
    photo_changes.approve_and_release(
        ctx(),
        actor=g.actor,
        beneficiary_id=beneficiary_id,
        change_id=change_id,
        reason=request.form.get("reason"),
        ring=enqueue,
    )
    flash(gettext("The photo change is approved: the new photos are being encoded."), "info")
    return redirect(url_for("console.registry.person", beneficiary_id=beneficiary_id), 303)


@bp.post("/people/<uuid:beneficiary_id>/photo-changes/<uuid:change_id>/reject")
@staff_page(*REVIEWERS)
@db.transaction
def reject(beneficiary_id: uuid.UUID, change_id: uuid.UUID):
    context = ctx()
    person = beneficiaries.get_beneficiary(context, actor=g.actor, beneficiary_id=beneficiary_id)
    change = photo_changes.get_change(context, beneficiary=person, change_id=change_id)
    photo_changes.reject(context, actor=g.actor, beneficiary=person, change=change, reason=request.form.get("reason"))
    flash(gettext("The photo change is turned down: the photos in use stay."), "info")
    return redirect(url_for("console.registry.person", beneficiary_id=beneficiary_id), 303)
