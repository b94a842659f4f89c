"""Suspensions: the list, a suspension with its appeal, the printable notice, and reinstatement with arrears."""

from __future__ import annotations

import uuid
from functools import partial

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from server import db
from server.context import Ctx
from server.models import Beneficiary, Notice
from server.services import beneficiaries, cases, suspensions
from server.services.errors import DomainError, NotFound
from server.web.access import REVIEWERS, ctx, staff_page
from server.web.lists import stops_page
from server.web.periods import date_arg

bp = Blueprint("suspensions", __name__)


@bp.get("/suspensions")
@staff_page(*REVIEWERS)
@db.transaction
def list_suspensions():
    context = ctx()
    ongoing = request.args.get("ongoing", "yes")
    fetch = partial(
        suspensions.list_suspensions,
        context,
        actor=g.actor,
        beneficiary_id=None,
        ongoing={"yes": True, "no": False}.get(ongoing),
    )
    return stops_page(context, "suspensions/list.html", fetch, ongoing=ongoing)


@bp.get("/suspensions/<uuid:suspension_id>")
@staff_page(*REVIEWERS)
@db.transaction
def suspension(suspension_id: uuid.UUID):
    context = ctx()
    row = suspensions.get_suspension(context, actor=g.actor, suspension_id=suspension_id)
    person = beneficiaries.get_beneficiary(context, actor=g.actor, beneficiary_id=row.beneficiary_id)
    return render_template(
        "suspensions/suspension.html",
        suspension=row,
        person=person,
        notices=suspensions.notices_of(context, suspension=row),
    )


@bp.post("/suspensions/<uuid:suspension_id>/appeal")
@staff_page(*REVIEWERS)
@db.transaction
def appeal(suspension_id: uuid.UUID):
    context = ctx()
    row = suspensions.get_suspension(context, actor=g.actor, suspension_id=suspension_id)
    case = suspensions.appeal(context, actor=g.actor, suspension=row, reason=request.form.get("reason", ""))
    flash(gettext("The appeal is recorded; the case is open again."), "info")
    return redirect(url_for("console.cases.case_page", case_id=case.id), 303)


@bp.get("/notices/<uuid:notice_id>")
@staff_page(*REVIEWERS)
@db.transaction
def notice(notice_id: uuid.UUID):
    context = ctx()
    row = context.session.get(Notice, notice_id)
    if row is None:
        raise NotFound("notice not found", {"notice_id": ["not_found"]})
    # The notice is in scope exactly when its person is.
    person = beneficiaries.get_beneficiary(context, actor=g.actor, beneficiary_id=row.beneficiary_id)
    case = cases.get_case(context, actor=g.actor, case_id=row.case_id)
    return render_template("suspensions/notice.html", notice=row, person=person, case=case)


class _Discard(Exception):
    """Leaving the preview's savepoint with this rolls it back: nothing of the preview is kept."""


def _reinstate(context: Ctx, person: Beneficiary):
    return suspensions.reinstate(
        context,
        actor=g.actor,
        beneficiary=person,
        reason=request.values.get("reason", "").strip() or "-",
        reinstated_on=date_arg("reinstated_on", request.values),
    )


@bp.get("/people/<uuid:beneficiary_id>/reinstate")
@staff_page(*REVIEWERS)
@db.transaction
def reinstate(beneficiary_id: uuid.UUID):
    context = ctx()
    person = beneficiaries.get_beneficiary(context, actor=g.actor, beneficiary_id=beneficiary_id)
    # The arrears shown are what reinstating would record: the service itself runs in a savepoint rolled back,
    # so the preview cannot differ from the real thing (and a missing proof of life shows before confirming).
    preview, refusal = None, None
    try:
        with db.savepoint(context.session):
            done = _reinstate(context, person)
            preview = {"months": done.arrears_months, "amount": done.arrears_amount, "effective_on": done.effective_on}
            raise _Discard
    except _Discard:
        pass
    except DomainError as exc:
        refusal = exc
    return render_template(
        "suspensions/reinstate.html",
        person=person,
        preview=preview,
        refusal=refusal,
        reinstated_on=request.args.get("reinstated_on", ""),
    )


@bp.post("/people/<uuid:beneficiary_id>/reinstate")
@staff_page(*REVIEWERS)
@db.transaction
def reinstate_post(beneficiary_id: uuid.UUID):
    context = ctx()
    person = beneficiaries.get_beneficiary(context, actor=g.actor, beneficiary_id=beneficiary_id)
    if not request.form.get("reason", "").strip():
        raise DomainError.field("reason", "required")
    done = _reinstate(context, person)
    flash(
        gettext("Reinstated. Arrears of %(amount)s go to the next payment run.", amount=str(done.arrears_amount)),
        "info",
    )
    return redirect(url_for("console.registry.person", beneficiary_id=person.id), 303)
