"""Pages of a list whose count stops at a bound: past it the pager says "more than 10,000" and offers the
next page while pages come back full, rather than counting a whole county on every request."""

from __future__ import annotations

from flask import current_app

from server.config import COUNT_UP_TO


def count_bound() -> int:
    """How far the console counts a list: as far as the API does (`FIELDCHECK_COUNT_UP_TO`)."""
    return current_app.config["FIELDCHECK"].count_up_to


def pager_args(*, page: int, total: int, size: int, shown: int, bound: int = COUNT_UP_TO) -> dict:
    """The pager macro's arguments for a total counted up to `bound` (the list's `count_up_to`)."""
    if total > bound:
        return {"page": page, "pages": None, "total": bound, "more": shown == size}
    pages = max(1, -(-total // size))
    return {"page": page, "pages": pages, "total": total, "more": page < pages}
