"""What a refused request looks like in the console: 404 and 403 pages, and refused forms answered with the
reasons in words."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext
from flask_wtf.csrf import CSRFError

from server.services.errors import DomainError
from server.web.words import reasons_of


def domain_error(exc: DomainError):
    if exc.status == 404:
        return render_template(
            "error.html",
            title=gettext("Not found"),
            message=gettext("There is nothing here, or it is outside your region."),
        ), 404
    # A refused form is answered with its reasons, not sent back to a fresh copy of its page: the browser's
    # Back returns to the form with what was typed in it.
    title = gettext("Not allowed") if exc.status == 403 else gettext("Request refused")
    return render_template("error.html", title=title, message=reasons_of(exc)), exc.status


def csrf_error(_exc: CSRFError):
    message = gettext("The form had expired or did not come from this console. Open the page again and resend it.")
    return render_template("error.html", title=gettext("Form refused"), message=message), 400
