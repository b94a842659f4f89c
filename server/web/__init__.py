"""The supervisors' console at `/`: server-rendered pages for signed-in staff, Chinese first, English second.

Pages call the same services as the API; a view parses the form, calls one service in one unit of work
(`@db.transaction`, as the API does) and redirects.
The session is a signed cookie (separate from the API's bearer tokens) and every POST carries a CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from flask import Blueprint, Flask, Response, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect

from server.services.errors import DomainError
from server.web import (
    admin,
    alerts,
    auth,
    cases,
    checkins,
    cycles,
    errors,
    formatting,
    imports,
    overview,
    payments,
    photo_changes,
    registry,
    suspensions,
    terminations,
    visits,
)

# Babel spells Simplified Chinese zh_Hans_CN (the catalog's folder name); the switch sends zh_CN or en.
LOCALES = ("zh_CN", "en")
TRANSLATIONS = Path(__file__).parent / "translations"
CHILDREN = (
    auth.bp,
    overview.bp,
    cases.bp,
    checkins.bp,
    registry.bp,
    photo_changes.bp,
    alerts.bp,
    suspensions.bp,
    terminations.bp,
    imports.bp,
    cycles.bp,
    payments.bp,
    visits.bp,
    admin.bp,
)
csrf = CSRFProtect()


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (behind a proxy: as FIELDCHECK_PROXIES
    lets it say)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)


def select_locale() -> str:
    return session.get("lang") if session.get("lang") in LOCALES else LOCALES[0]


def _session_key(secret: str) -> str:
    # Derived, so a console cookie can never pass for a bearer token signed with the same secret.
    return hmac.new(secret.encode(), b"fieldcheck console session", hashlib.sha256).hexdigest()


def init_app(app: Flask) -> None:
    """Session, CSRF, translations and the console's pages."""
    settings = app.config["FIELDCHECK"]
    app.config.update(
        SECRET_KEY=_session_key(settings.secret_key),
        SESSION_COOKIE_NAME="fieldcheck_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # The API under /api/v1 authenticates with bearer tokens and needs no CSRF token; the console checks its own.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE=LOCALES[0],
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
        # Offices read local time; Etc/GMT-8 is UTC+8 (the POSIX sign is inverted).
        BABEL_DEFAULT_TIMEZONE=f"Etc/GMT{-settings.cycles.utc_offset_hours:+d}",
    )
    app.session_interface = ConsoleSessionInterface()
    csrf.init_app(app)
    Babel(app, locale_selector=select_locale)
    formatting.init_app(app)
    console = Blueprint(
        "console", __name__, template_folder="templates", static_folder="static", static_url_path="/console/static"
    )
    console.before_request(_protect)
    console.after_request(_no_store)
    console.register_error_handler(DomainError, errors.domain_error)
    console.register_error_handler(CSRFError, errors.csrf_error)
    for child in CHILDREN:
        console.register_blueprint(child)
    app.register_blueprint(console)


def _protect() -> None:
    if request.method == "POST":
        csrf.protect()


def _no_store(response: Response) -> Response:
    # Pages show names, ID numbers and photos: no browser or proxy may keep a copy (a shared office PC's
    # back button, a disk cache). The stylesheet and scripts carry nothing personal and may be cached.
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    return response
