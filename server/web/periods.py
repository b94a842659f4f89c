"""The period a page reports on: the calendar quarter of today (the default cycle) unless the reader picks dates."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta
from flask import current_app, request

from server.services import cycles
from server.services.errors import DomainError


def today() -> date:
    return cycles.office_today(current_app.config["FIELDCHECK"])


def current_quarter() -> tuple[date, date]:
    day = today()
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return first, first + relativedelta(months=3, days=-1)


def date_arg(name: str, source=None, default: date | None = None) -> date | None:
    """A date from the query string or form; a malformed one is refused with `invalid_date`."""
    raw = ((source if source is not None else request.args).get(name) or "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise DomainError.field(name, "invalid_date") from exc
