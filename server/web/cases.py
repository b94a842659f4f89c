"""The queue, a case with its evidence side by side, decisions with four eyes, and the audited image views."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from server import db
from server.db import PageRequest
from server.models import CaseKind, CaseState
from server.schemas.case import DecisionRequestSchema
from server.services import (
    beneficiaries,
    cases,
    checkins,
    decisions,
    duplicate_registrations,
    enrolment,
    notice_reasons,
    staff,
    terminations,
    visits,
)
from server.services.errors import DomainError, PreconditionFailed
from server.web.access import REVIEWERS, ctx, staff_page
from server.web.evidence import fix_picture
from server.web.forms import load
from server.web.lists import page_number, people_of, staff_names
from server.web.next_page import local_path
from server.web.periods import date_arg, today

bp = Blueprint("cases", __name__)
PAGE_SIZE = 50


def _filters() -> cases.CaseFilters:
    state = request.args.get("state") or "undecided"
    assignee = request.args.get("assigned_to") or None
    if assignee == "me":
        assignee = g.actor.id
    try:
        return cases.CaseFilters(
            kind=CaseKind(request.args["kind"]) if request.args.get("kind") else None,
            state=None if state in ("undecided", "all") else CaseState(state),
            undecided=state == "undecided",
            assigned_to=uuid.UUID(assignee) if assignee else None,
            region=request.args.get("region") or None,
            due_before=date_arg("due_before"),
        )
    except ValueError as exc:
        raise DomainError.field("filters", "invalid") from exc


@bp.get("/cases")
@staff_page(*REVIEWERS)
@db.transaction
def queue():
    context = ctx()
    filters = _filters()
    page = page_number()
    items, total, counts = cases.queue_page(
        context, actor=g.actor, filters=filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    return render_template(
        "cases/queue.html",
        items=items,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        people=people_of(context, items),
        counts=counts,
        reviewers=staff.reviewers_for(context, region_code=g.actor.region_code),
        staff_names=staff_names(context),
        today=today(),
        args=request.args,
    )


@bp.get("/cases/<uuid:case_id>")
@staff_page(*REVIEWERS)
@db.transaction
def case_page(case_id: uuid.UUID):
    context = ctx()
    case = cases.get_case(context, actor=g.actor, case_id=case_id)
    person = beneficiaries.get_beneficiary(context, actor=g.actor, beneficiary_id=case.beneficiary_id)
    history, _ = checkins.list_checkins(
        context, actor=g.actor, filters={"beneficiary_id": person.id}, page=PageRequest(limit=10)
    )
    latest = next((c for c in history if c.gps), history[0] if history else None)
    person_visits, _ = visits.beneficiary_visits(
        context, actor=g.actor, beneficiary_id=person.id, page=PageRequest(limit=10)
    )
    pending = decisions.pending_proposal(context, case_id=case.id)
    allowed = [d.value for d in decisions.allowed_decisions(context, case=case, beneficiary=person)]
    # Restoring shows the arrears before anyone confirms: as proposed, and as they stand now.
    restore, restore_refusal = None, None
    if "restore" in allowed or (pending is not None and pending.decision.value == "restore"):
        try:
            restore = terminations.preview_restore(context, case=case, restored_on=None)
        except DomainError as exc:
            restore_refusal = exc
    # A duplicate registration is decided on the two records side by side.
    duplicate = None
    if case.kind == CaseKind.DUPLICATE_REGISTRATION:
        duplicate = duplicate_registrations.records(context, case=case, actor=g.actor)
    return render_template(
        "cases/case.html",
        case=case,
        person=person,
        photos=[p for p in enrolment.photos_of(context, beneficiary_id=person.id) if p.state.value == "encoded"],
        enrolment_state=enrolment.enrolment_state(enrolment.photos_of(context, beneficiary_id=person.id)),
        checkins=history,
        latest=latest,
        frames=checkins.frames_for_review(context, checkin=latest)[0] if latest else [],
        picture=fix_picture(person, latest.gps if latest else None),
        visits=visits.shown_to(context, actor=g.actor, visits=person_visits),
        history=decisions.list_decisions(context, case=case),
        allowed=allowed,
        pending=pending,
        restore=restore,
        restore_refusal=restore_refusal,
        duplicate=duplicate,
        needs_dispute_reason=terminations.needs_dispute_reason(context, case=case),
        termination=terminations.termination_of_case(context, case_id=case.id),
        default_notice_reason=notice_reasons.default_reason(case).value,
        reason=request.args.get("reason", "").strip(),
        staff_names=staff_names(context),
        reviewers=staff.reviewers_for(context, region_code=case.region_code),
        workers=staff.field_workers_in(context, region_code=g.actor.region_code),
        today=today(),
    )


@bp.post("/cases/<uuid:case_id>/assign")
@staff_page(*REVIEWERS)
@db.transaction
def assign(case_id: uuid.UUID):
    context = ctx()
    case = cases.get_case(context, actor=g.actor, case_id=case_id)
    # The page's copy of the case must still be current, like the API's If-Match.
    if request.form.get("version", type=int) != case.version:
        raise PreconditionFailed("the case changed meanwhile", {"_": ["stale_version"]})
    decisions.assign(context, actor=g.actor, case=case, assigned_to=_assignee(request.form.get("assigned_to")))
    flash(gettext("The case is assigned."), "info")
    return redirect(local_path(request.form.get("next"), url_for(".case_page", case_id=case.id)), 303)


def _assignee(target: str | None) -> uuid.UUID | None:
    """The account a case is assigned to: "me", an account id, or nobody (empty)."""
    if not target:
        return None
    if target == "me":
        return uuid.UUID(g.actor.id)
    try:
        return uuid.UUID(target)
    except ValueError as exc:
        raise DomainError.field("assigned_to", "invalid") from exc


@bp.post("/cases/<uuid:case_id>/decisions")
@staff_page(*REVIEWERS)
@db.transaction
def decide(case_id: uuid.UUID):
    context = ctx()
    case = cases.get_case(context, actor=g.actor, case_id=case_id)
    body = load(DecisionRequestSchema(), request.form)
    decisions.decide(
        context, actor=g.actor, case=case, decision=body.pop("decision"), reason=body.pop("reason"), params=body
    )
    flash(gettext("The decision is recorded."), "info")
    return redirect(url_for(".case_page", case_id=case.id), 303)


@bp.post("/cases/<uuid:case_id>/decisions/<uuid:decision_id>/<any(approve, reject):verdict>")
@staff_page(*REVIEWERS)
@db.transaction
def review_proposal(case_id: uuid.UUID, decision_id: uuid.UUID, verdict: str):
    context = ctx()
    case = cases.get_case(context, actor=g.actor, case_id=case_id)
    reason = request.form.get("reason", "")
    if verdict == "approve":
        decisions.approve(context, actor=g.actor, case=case, decision_id=decision_id, reason=reason)
    else:
        decisions.reject(context, actor=g.actor, case=case, decision_id=decision_id, reason=reason)
    flash(
        gettext("The proposal is approved.") if verdict == "approve" else gettext("The proposal is rejected."), "info"
    )
    return redirect(url_for(".case_page", case_id=case.id), 303)


def _image(data: bytes, mimetype: str) -> Response:
    return Response(data, mimetype=mimetype, headers={"Cache-Control": "no-store"})


def _view_reason() -> str:
    reason = request.args.get("reason", "").strip()
    if not reason:
        raise DomainError.field("reason", "required", "say why you open the photos")
    return reason


@bp.get("/images/photos/<uuid:beneficiary_id>/<uuid:photo_id>")
@staff_page(*REVIEWERS)
@db.transaction
def photo_image(beneficiary_id: uuid.UUID, photo_id: uuid.UUID):
    context = ctx()
    person = beneficiaries.get_beneficiary(context, actor=g.actor, beneficiary_id=beneficiary_id)
    data, mimetype = enrolment.read_photo(
        context, actor=g.actor, beneficiary=person, photo_id=photo_id, reason=_view_reason()
    )
    return _image(data, mimetype)


@bp.get("/images/checkins/<uuid:checkin_id>/<int:position>")
@staff_page(*REVIEWERS)
@db.transaction
def frame_image(checkin_id: uuid.UUID, position: int):
    context = ctx()
    checkin = checkins.get_checkin(context, actor=g.actor, checkin_id=checkin_id)
    data = checkins.read_frame(context, actor=g.actor, checkin=checkin, position=position, reason=_view_reason())
    return _image(data, "image/jpeg")
