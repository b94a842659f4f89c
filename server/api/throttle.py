"""Throttling guessable endpoints (login, device activation) with flask-limiter.

Only failures count (`deduct_when`), per account and per address, so a person who types their
password right is never slowed, while guessing stops after a few tries: once a limit is reached even
the right password answers 429 with `Retry-After` until the window passes. The counters live in
Redis in production (shared by every gunicorn worker) and in memory in the embedded default.
"""

from __future__ import annotations

import hashlib
from http import HTTPStatus

from flask import Flask, current_app, jsonify, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address

from server.api.errors import body

limiter = Limiter(key_func=get_remote_address, headers_enabled=True, strategy="moving-window")


def _rules():
    return current_app.config["FIELDCHECK"].ratelimit


def _failed(response) -> bool:
    return response.status_code == HTTPStatus.UNAUTHORIZED


def _account() -> str:
    # Hashed so the counter's key in Redis does not spell out what was typed (sometimes a password).
    sent = request.get_json(silent=True)
    # Any JSON may arrive (a number, a list): only an object names an account; the schema refuses the rest.
    username = str(sent.get("username", "") if isinstance(sent, dict) else "").strip().lower()
    # surrogatepass: a lone surrogate (which the schema then refuses) must not fail the key itself.
    return "account:" + hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()


def per_account_and_address(view):
    """Limit a login view's failures per username and per client address."""
    view = limiter.limit(lambda: _rules().login_per_account, key_func=_account, deduct_when=_failed)(view)
    return limiter.limit(lambda: _rules().login_per_address, deduct_when=_failed, scope="login-address")(view)


def per_address(view):
    """Limit an activation view's failures per client address."""
    return limiter.limit(lambda: _rules().activation_per_address, deduct_when=_failed)(view)


def _too_many(exc: RateLimitExceeded):
    status = HTTPStatus.TOO_MANY_REQUESTS
    message = "too many failed attempts; wait before trying again"
    return jsonify(body(status, message, {"_": ["too_many_attempts"]})), status


def init_app(app: Flask) -> None:
    """Bind the limiter to the app's storage (Redis or memory) and answer 429 in the usual error shape."""
    app.config["RATELIMIT_STORAGE_URI"] = app.config["FIELDCHECK"].ratelimit.storage_url
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, _too_many)


def reset() -> None:
    """Forget every counter (tests, and an operator unlocking after an incident)."""
    limiter.reset()
