"""Calendar-month arithmetic for monthly payments: periods are `YYYY-MM` strings."""

from __future__ import annotations

import calendar
from datetime import date

from dateutil.relativedelta import relativedelta


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def period_start(period: str) -> date:
    year, month = period.split("-")
    return date(int(year), int(month), 1)


def period_end(period: str) -> date:
    start = period_start(period)
    return date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])


def periods_between(first: str, last: str) -> list[str]:
    """Every period from `first` to `last`, both included."""
    periods, current = [], period_start(first)
    while period_of(current) <= last:
        periods.append(period_of(current))
        current += relativedelta(months=1)
    return periods
