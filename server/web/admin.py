"""Administration (admins only): staff accounts, the audit log, and verifying its hash chain."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from server import db
from server.models import StaffRole
from server.services import audit, staff
from server.web.access import ctx, staff_page
from server.web.cases import page_number

bp = Blueprint("admin", __name__, url_prefix="/admin")
ADMIN = StaffRole.ADMIN.value
PAGE_SIZE = 100


@bp.get("/staff")
@staff_page(ADMIN)
@db.transaction
def staff_list():
    return render_template("admin/staff.html", users=staff.list_staff(ctx(), actor=g.actor)[0])


@bp.post("/staff")
@staff_page(ADMIN)
@db.transaction
def staff_create():
    staff.create_staff_user(
        ctx(),
        actor=g.actor,
        username=request.form.get("username", "").strip(),
        password=request.form.get("password", ""),
        role=StaffRole(request.form.get("role", StaffRole.SUPERVISOR.value)),
        region_code=request.form.get("region_code", "").strip(),
        display_name=request.form.get("display_name", "").strip() or None,
    )
    flash(gettext("The account is created."), "info")
    return redirect(url_for(".staff_list"), 303)


@bp.get("/audit")
@staff_page(ADMIN)
@db.transaction
def audit_log():
    page = page_number()
    context = ctx()
    entries = audit.latest(context, region_code=g.actor.region_code, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    names = {str(user.id): user.display_name for user in staff.list_staff(context, actor=g.actor)[0]}
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
