"""Who is signed in to the console: the cookie session, its idle timeout, and role checks."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, redirect, request, session, url_for

from server import db
from server.context import Ctx
from server.models import StaffRole, StaffUser
from server.services.audit import Actor
from server.services.auth import password_stamp, staff_actor
from server.services.errors import Forbidden

REVIEWERS = (StaffRole.ADMIN.value, StaffRole.SUPERVISOR.value)


def ctx() -> Ctx:
    """What this request's service calls work with (see server.context)."""
    return Ctx.current()


def sign_in(user: StaffUser) -> None:
    """Start a console session for the account (a fresh cookie, so a planted session id is useless)."""
    lang = session.get("lang")
    session.clear()
    session.update(staff_id=str(user.id), stamp=password_stamp(user), seen=int(time.time()))
    if lang:
        session["lang"] = lang


def sign_out() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _idle_seconds() -> int:
    return current_app.config["FIELDCHECK"].tokens.console_idle_minutes * 60


def signed_in_actor() -> Actor | None:
    """The actor of a live session, or None (no session, idle too long, account disabled or password changed)."""
    staff_id = session.get("staff_id")
    if not staff_id:
        return None
    now = int(time.time())
    if now - int(session.get("seen", 0)) > _idle_seconds():
        sign_out()
        session["expired"] = True
        return None
    user = db.session().get(StaffUser, uuid.UUID(staff_id))
    if user is None or not user.is_active or session.get("stamp") != password_stamp(user):
        sign_out()
        return None
    session["seen"] = now
    g.staff_user = user
    return staff_actor(user)


def current_actor() -> Actor:
    return g.actor


def staff_page(*roles: str) -> Callable:
    """A console page for signed-in staff (of the given roles, or any); others go to the sign-in page."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = signed_in_actor()
            if actor is None:
                return redirect(url_for("console.auth.login", next=request.full_path))
            if roles and actor.role not in roles:
                raise Forbidden("your role may not do this", {"authorization": ["role_not_allowed"]})
            g.actor = actor
            return view(*args, **kwargs)

        return wrapper

    return decorator
