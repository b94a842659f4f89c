"""The registry: search people, a person's page with everything about them, and editing with conflict detection."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from server import db
from server.db import PageRequest
from server.models import Program
from server.schemas.beneficiary import BeneficiaryCreateSchema, BeneficiaryUpdateSchema
from server.schemas.cycle import ExemptionCreateSchema
from server.services import (
    audit,
    auth,
    beneficiaries,
    checkins,
    consent,
    cycles,
    enrolment,
    exemptions,
    payments,
    photo_changes,
    reminders,
    suspensions,
    terminations,
    visits,
)
from server.services.errors import DomainError, PreconditionFailed
from server.web.access import REVIEWERS, ctx, staff_page
from server.web.forms import load
from server.web.lists import page_number, staff_names
from server.web.paging import count_bound, pager_args

bp = Blueprint("registry", __name__)
PAGE_SIZE = 50


@bp.get("/people")
@staff_page(*REVIEWERS)
@db.transaction
def search():
    context = ctx()
    args = request.args
    page = page_number()
    filters = beneficiaries.ListFilters(
        program=args.get("program") or None,
        status=args.get("status") or None,
        region_code=args.get("region") or None,
        name=args.get("name", "").strip() or None,
        enrolment=args.get("enrolment") or None,
    )
    items, total = beneficiaries.list_beneficiaries(
        context,
        actor=g.actor,
        filters=filters,
        page=PageRequest(offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, count_up_to=count_bound()),
    )
    return render_template(
        "registry/search.html",
        items=items,
        paging=pager_args(page=page, total=total, size=PAGE_SIZE, shown=len(items), bound=count_bound()),
        args=args,
    )


@bp.post("/people/find")
@staff_page(*REVIEWERS)
@db.transaction
def find():
    """People by resident ID number, sent in the form's body: in a URL the number would stay in the office PC's
    history and in any proxy's log. An exact match through the HMAC index, nobody outside the region, audited."""
    filters = beneficiaries.ListFilters(id_number=request.form.get("id_number", "").strip())
    try:
        items, _total = beneficiaries.look_up_by_id_number(
            ctx(), actor=g.actor, filters=filters, page=PageRequest(offset=0, limit=PAGE_SIZE, count_up_to=PAGE_SIZE)
        )
    except DomainError:
        # A number that cannot be one (its check digit, its date) finds nobody.
        items = []
    return render_template("registry/search.html", items=items, paging=None, args={})


@bp.get("/people/new")
@staff_page(*REVIEWERS)
def new():
    return render_template("registry/new.html")


@bp.post("/people/new")
@staff_page(*REVIEWERS)
@db.transaction
def create():
    who = beneficiaries.create_beneficiary(ctx(), actor=g.actor, data=load(BeneficiaryCreateSchema(), request.form))
    flash(gettext("The person is registered."), "info")
    return redirect(url_for(".person", beneficiary_id=who.id), 303)


@bp.get("/people/<uuid:beneficiary_id>")
@staff_page(*REVIEWERS)
@db.transaction
def person(beneficiary_id: uuid.UUID):
    context = ctx()
    who = beneficiaries.get_beneficiary(context, actor=g.actor, beneficiary_id=beneficiary_id)
    beneficiaries.record_view(context, actor=g.actor, beneficiary=who)
    person_checkins, _ = checkins.list_checkins(
        context, actor=g.actor, filters={"beneficiary_id": who.id}, page=PageRequest(limit=20)
    )
    person_visits, _ = visits.beneficiary_visits(
        context, actor=g.actor, beneficiary_id=who.id, page=PageRequest(limit=20)
    )
    person_suspensions = suspensions.list_suspensions(context, actor=g.actor, beneficiary_id=who.id, ongoing=None)
    photos = enrolment.photos_of(context, beneficiary_id=who.id)
    person_exemptions = exemptions.list_exemptions(context, beneficiary=who)
    # The trail of the record and of what decides who the person is: their photos, the changes to them and
    # their phones; their exemptions and suspension cases.
    trail_of = [
        who.id,
        *(s.case_id for s in person_suspensions),
        *(p.id for p in photos),
        *(c.id for c in photo_changes.changes_of(context, beneficiary_id=who.id)),
        *(e.id for e in person_exemptions),
        *auth.device_ids_of(context, beneficiary_id=who.id),
    ]
    return render_template(
        "registry/person.html",
        person=who,
        enrolment_state=enrolment.enrolment_state(photos),
        pending_photo_change=photo_changes.pending_of(context, beneficiary_id=who.id),
        cycles=cycles.beneficiary_cycles(context, beneficiary=who, zone=cycles.office_zone(context.settings)),
        checkins=person_checkins,
        visits=visits.shown_to(context, actor=g.actor, visits=person_visits),
        exemptions=person_exemptions,
        suspensions=[(s, suspensions.notices_of(context, suspension=s)) for s in person_suspensions],
        terminations=[
            (t, terminations.notices_of(context, termination=t))
            for t in terminations.list_terminations(context, actor=g.actor, beneficiary_id=who.id)
        ],
        notifications=reminders.list_notifications(context, beneficiary=who),
        payment_lines=payments.lines_of(context, beneficiary=who),
        staff_names=staff_names(context),
        trail=audit.trail(context, object_ids=[str(i) for i in trail_of]),
        consents=consent.consents_of(context.session, beneficiary_id=who.id),
        consent_withdrawn_at=consent.withdrawn_at(context.session, beneficiary_id=who.id),
    )


@bp.get("/people/<uuid:beneficiary_id>/edit")
@staff_page(*REVIEWERS)
@db.transaction
def edit(beneficiary_id: uuid.UUID):
    who = beneficiaries.get_beneficiary(ctx(), actor=g.actor, beneficiary_id=beneficiary_id)
    return render_template("registry/edit.html", person=who, programs=list(Program))


@bp.post("/people/<uuid:beneficiary_id>/edit")
@staff_page(*REVIEWERS)
@db.transaction
def edit_post(beneficiary_id: uuid.UUID):
    context = ctx()
    who = beneficiaries.get_beneficiary(context, actor=g.actor, beneficiary_id=beneficiary_id)
    # The version the form was read at must still be current: someone else's edit in between is a conflict.
    if request.form.get("version", type=int) != who.version:
        raise PreconditionFailed("the beneficiary changed while you edited it", {"_": ["stale_version"]})
    body = load(BeneficiaryUpdateSchema(), request.form, only=(*beneficiaries.EDITABLE_FIELDS, "reason"))
    reason = body.pop("reason", None)
    # An edit committed by someone else after the read above fails at commit: the unit of work answers 409.
    beneficiaries.update_beneficiary(context, actor=g.actor, beneficiary=who, changes=body, reason=reason)
    flash(gettext("The record is saved."), "info")
    return redirect(url_for(".person", beneficiary_id=who.id), 303)


@bp.post("/people/<uuid:beneficiary_id>/exemptions")
@staff_page(*REVIEWERS)
@db.transaction
def grant_exemption(beneficiary_id: uuid.UUID):
    """An exemption known before any case asks for one (the person goes into hospital, away for work)."""
    context = ctx()
    who = beneficiaries.get_beneficiary(context, actor=g.actor, beneficiary_id=beneficiary_id)
    body = load(ExemptionCreateSchema(), request.form, only=("kind", "starts_on", "ends_on", "reason", "evidence"))
    exemptions.grant_exemption(context, actor=g.actor, beneficiary=who, **body)
    flash(gettext("The exemption is recorded."), "info")
    return redirect(url_for(".person", beneficiary_id=who.id), 303)
