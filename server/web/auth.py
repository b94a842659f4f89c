"""Signing in and out of the console, the language switch, and changing one's own password."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext

from server import db
from server.models import StaffUser
from server.services import auth, staff
from server.services.auth import AuthError
from server.web.access import ctx, sign_in, sign_out, signed_in_actor, staff_page
from server.web.next_page import local_path
from server.web.words import reason_text

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    return local_path(target, url_for("console.overview.overview"))


@bp.get("/login")
def login():
    expired = session.pop("expired", False)
    if signed_in_actor() is not None:
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", expired=expired, next=request.args.get("next", ""))


@bp.post("/login")
def login_post():
    context = ctx()
    try:
        with db.unit_of_work(context.session):
            issued = auth.login(
                context,
                username=request.form.get("username", "").strip(),
                password=request.form.get("password", ""),
            )
    except AuthError as exc:
        flash(reason_text("password", exc.reason), "error")
        return render_template("login.html", next=request.form.get("next", "")), 401
    sign_in(context.session.get(StaffUser, uuid.UUID(issued.actor.id)))
    return redirect(_safe_next(request.form.get("next")), 303)


@bp.post("/logout")
def logout():
    sign_out()
    flash(gettext("You are signed out."), "info")
    return redirect(url_for("console.auth.login"), 303)


@bp.post("/language")
def language():
    if request.form.get("lang") in ("zh_CN", "en"):
        session["lang"] = request.form["lang"]
    return redirect(_safe_next(request.form.get("next")), 303)


@bp.get("/password")
@staff_page()
@db.transaction
def password():
    return render_template("password.html")


@bp.post("/password")
@staff_page()
@db.transaction
def password_post():
    if request.form.get("new_password") != request.form.get("confirm_password"):
        flash(gettext("The two new passwords differ."), "error")
        return redirect(url_for(".password"), 303)
    user = staff.change_own_password(
        ctx(), actor=g.actor, current=request.form.get("current_password", ""), new=request.form["new_password"]
    )
    # This session goes on with the new stamp; every other session of the account ends.
    sign_in(user)
    flash(gettext("Your password is changed."), "info")
    return redirect(url_for("console.overview.overview"), 303)
