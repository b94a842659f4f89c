"""Pages of a list whose count stops at a bound: past it the pager says "more than 10,000" and offers the
next page while pages come back full, rather than counting a whole county on every request."""

from __future__ import annotations

from server.config import COUNT_UP_TO


def pager_args(*, page: int, total: int, size: int, shown: int) -> dict:
    """The pager macro's arguments for a total counted with `count_up_to=COUNT_UP_TO`."""
    if total > COUNT_UP_TO:
        return {"page": page, "pages": None, "total": COUNT_UP_TO, "more": shown == size}
    pages = max(1, -(-total // size))
    return {"page": page, "pages": pages, "total": total, "more": page < pages}
