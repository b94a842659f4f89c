"""The dates the service accepts: from 2000 to ten years ahead.

Nothing the offices record lies outside it (the programmes' records start after 2000, and nobody
plans a cycle or a payment decades ahead), and every date inside it leaves room for the arithmetic
done on it (grace periods, month ends, day-after bounds) without leaving Python's or PostgreSQL's
range.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

EARLIEST = date(2000, 1, 1)
YEARS_AHEAD = 10


def latest(today: date | None = None) -> date:
    """The last accepted day: ten years after today (28 February for a 29 February)."""
    today = today or datetime.now(UTC).date()
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def within(day: date, today: date | None = None) -> bool:
    return EARLIEST <= day <= latest(today)


def period_within(period: str, today: date | None = None) -> bool:
    """A `YYYY-MM` period lies in the window when its first day does."""
    year, month = int(period[:4]), int(period[5:7])
    last = latest(today)
    return (EARLIEST.year, EARLIEST.month) <= (year, month) <= (last.year, last.month)
