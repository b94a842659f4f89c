"""Administration (admins only): staff accounts, beneficiaries' phones, the audit log and verifying its hash chain.

Every change goes through the same service call as the API's, so it is audited the same way.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from server import db
from server.models import StaffRole
from server.schemas.staff import StaffCreateSchema, StaffUpdateSchema
from server.services import audit, auth, beneficiaries, staff
from server.services.errors import DomainError
from server.web.access import ctx, staff_page
from server.web.forms import load
from server.web.lists import page_number, staff_names
from server.web.paging import count_bound, pager_args

bp = Blueprint("admin", __name__, url_prefix="/admin")
ADMIN = StaffRole.ADMIN.value
PAGE_SIZE = 100
# Each phone is a row with its own revoke form.
DEVICES_PAGE_SIZE = 50


@bp.get("/staff")
@staff_page(ADMIN)
@db.transaction
def staff_list():
    return render_template("admin/staff.html", users=staff.list_staff(ctx(), actor=g.actor)[0])


@bp.post("/staff")
@staff_page(ADMIN)
@db.transaction
def staff_create():
    # The password as typed: the form reader strips what it reads.
    body = load(
        StaffCreateSchema(exclude=("password",)), request.form, only=("username", "role", "region_code", "display_name")
    )
    staff.create_staff_user(ctx(), actor=g.actor, password=request.form.get("password", ""), **body)
    flash(gettext("The account is created."), "info")
    return redirect(url_for(".staff_list"), 303)


@bp.get("/staff/<uuid:user_id>")
@staff_page(ADMIN)
@db.transaction
def staff_member(user_id: uuid.UUID):
    context = ctx()
    user = staff.get_staff_user(context, actor=g.actor, user_id=user_id)
    return render_template(
        "admin/staff_member.html",
        user=user,
        own=str(user.id) == g.actor.id,
        trail=audit.trail(context, object_ids=[str(user.id)], limit=30),
        staff_names=staff_names(context),
    )


def _change(user_id: uuid.UUID, changes: dict, reason: str | None) -> None:
    context = ctx()
    user = staff.get_staff_user(context, actor=g.actor, user_id=user_id)
    if not reason:
        raise DomainError.field("reason", "required")
    changed = staff.update_staff_user(context, actor=g.actor, user=user, changes=changes, reason=reason)
    flash(
        gettext("The account is changed.")
        if changed
        else gettext("Nothing changed: the form held the current values."),
        "info",
    )


@bp.post("/staff/<uuid:user_id>")
@staff_page(ADMIN)
@db.transaction
def staff_update(user_id: uuid.UUID):
    body = load(StaffUpdateSchema(), request.form, only=("role", "region_code", "display_name", "reason"))
    reason = body.pop("reason", None)
    _change(user_id, body, reason)
    return redirect(url_for(".staff_member", user_id=user_id), 303)


@bp.post("/staff/<uuid:user_id>/active")
@staff_page(ADMIN)
@db.transaction
def staff_active(user_id: uuid.UUID):
    # Disabling ends the account's console sessions too: the session check reads is_active on every page.
    _change(user_id, {"is_active": request.form.get("active") == "1"}, request.form.get("reason", "").strip())
    return redirect(url_for(".staff_member", user_id=user_id), 303)


@bp.post("/staff/<uuid:user_id>/password")
@staff_page(ADMIN)
@db.transaction
def staff_password(user_id: uuid.UUID):
    context = ctx()
    user = staff.get_staff_user(context, actor=g.actor, user_id=user_id)
    reason = request.form.get("reason", "").strip()
    if not reason:
        raise DomainError.field("reason", "required")
    if request.form.get("password") != request.form.get("confirm_password"):
        flash(gettext("The two new passwords differ."), "error")
        return redirect(url_for(".staff_member", user_id=user_id), 303)
    staff.reset_password(context, actor=g.actor, user=user, password=request.form.get("password", ""), reason=reason)
    flash(gettext("The password is reset; tell the person in person, not by message."), "info")
    return redirect(url_for(".staff_member", user_id=user_id), 303)


def _uuid_arg(name: str) -> uuid.UUID | None:
    raw = request.args.get(name, "").strip()
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError as exc:
        raise DomainError.field(name, "invalid") from exc


@bp.get("/devices")
@staff_page(ADMIN)
@db.transaction
def devices():
    context = ctx()
    page = page_number()
    person_id = _uuid_arg("beneficiary")
    # One person's phones: that person must be in the admin's region (else 404, like their page).
    person = beneficiaries.get_beneficiary(context, actor=g.actor, beneficiary_id=person_id) if person_id else None
    state = request.args.get("state") if request.args.get("state") in auth.DEVICE_STATES else None
    rows, total = auth.list_devices(
        context,
        actor=g.actor,
        beneficiary_id=person_id,
        state=state,
        offset=(page - 1) * DEVICES_PAGE_SIZE,
        limit=DEVICES_PAGE_SIZE,
        count_up_to=count_bound(),
    )
    return render_template(
        "admin/devices.html",
        rows=rows,
        paging=pager_args(page=page, total=total, size=DEVICES_PAGE_SIZE, shown=len(rows), bound=count_bound()),
        person=person,
        state=state,
        states=auth.DEVICE_STATES,
        staff_names=staff_names(context),
    )


@bp.post("/devices/<uuid:beneficiary_id>/<uuid:device_id>/revoke")
@staff_page(ADMIN)
@db.transaction
def device_revoke(beneficiary_id: uuid.UUID, device_id: uuid.UUID):
    context = ctx()
    reason = request.form.get("reason", "").strip()
    if not reason:
        raise DomainError.field("reason", "required")
    person = beneficiaries.get_beneficiary(context, actor=g.actor, beneficiary_id=beneficiary_id)
    device = auth.get_device(context, beneficiary=person, device_id=device_id)
    auth.revoke_device(context, actor=g.actor, device=device, beneficiary=person, reason=reason)
    flash(gettext("The phone is revoked: it can no longer check in for %(name)s.", name=person.name), "info")
    return redirect(url_for(".devices", beneficiary=person.id), 303)


@bp.get("/audit")
@staff_page(ADMIN)
@db.transaction
def audit_log():
    page = page_number()
    context = ctx()
    entries = audit.latest(context, region_code=g.actor.region_code, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    names = staff_names(context)
    return render_template(
        "admin/audit.html", entries=entries, page=page, more=len(entries) == PAGE_SIZE, staff_names=names
    )


@bp.post("/audit/verify")
@staff_page(ADMIN)
@db.transaction
def audit_verify():
    broken = audit.find_break(ctx())
    if broken is None:
        flash(gettext("The audit log's hash chain holds: no entry was edited, deleted or reordered."), "info")
    else:
        flash(
            gettext("The chain is broken at entry %(seq)s: %(problem)s", seq=broken.seq, problem=broken.problem),
            "error",
        )
    return redirect(url_for(".audit_log"), 303)
