"""Who is calling: bearer-token authentication and role checks for the views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from http import HTTPStatus
from typing import Any

from flask import current_app, g, request

from server.api.errors import declare
from server.context import Ctx
from server.services.audit import Actor
from server.services.auth import AuthError, actor_from_token
from server.services.errors import DomainError, Forbidden


class Unauthorized(DomainError):
    status = HTTPStatus.UNAUTHORIZED


def current_actor() -> Actor:
    """The authenticated caller of this request."""
    return g.actor


def settings():
    return current_app.config["FIELDCHECK"]


def ctx() -> Ctx:
    """What this request's service calls work with (see server.context)."""
    return Ctx.current()


def bearer_token() -> str:
    """The request's bearer token, or 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required", {"authorization": ["missing_token"]})
    return token.strip()


def _authenticate() -> Actor:
    token = bearer_token()
    try:
        return actor_from_token(ctx(), token=token.strip())
    except AuthError as exc:
        raise Unauthorized("the bearer token was not accepted", {"authorization": [exc.reason]}) from exc


def staff_only(*roles: str) -> Callable:
    """Allow staff (of the given roles, or any role); beneficiaries' devices are refused."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = _authenticate()
            if actor.kind != "staff" or (roles and actor.role not in roles):
                raise Forbidden("your role may not do this", {"authorization": ["role_not_allowed"]})
            g.actor = actor
            return view(*args, **kwargs)

        # 422 too: any operation refuses a query parameter it does not declare.
        declare(wrapper, (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.UNPROCESSABLE_ENTITY))
        return wrapper

    return decorator


def authenticated(view: Callable) -> Callable:
    """Allow any valid token, staff or device; services apply the scope."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.actor = _authenticate()
        return view(*args, **kwargs)

    declare(wrapper, (HTTPStatus.UNAUTHORIZED, HTTPStatus.UNPROCESSABLE_ENTITY))
    return wrapper
