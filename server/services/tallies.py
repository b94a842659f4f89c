"""Figures a console page shows that would otherwise be recounted over a whole county on every request
(a cycle's status over 150,000 people, coverage over a period): counted by the same service functions the
API answers live with, kept per region for a few minutes, and recounted on demand.

A tally is at most MAX_AGE old, and the page says when it was counted, with a button to count again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from server.context import Ctx
from server.models import Tally, utcnow
from server.sqlfuncs import insert_ignoring_conflicts

MAX_AGE = timedelta(minutes=10)


def tallied(
    ctx: Ctx, *, report: str, key: str, region_code: str, count: Callable[[], dict[str, Any]], recount: bool = False
) -> tuple[dict[str, Any], datetime]:
    """The figures of `report` for `key` in the region, and when they were counted: the kept ones while
    younger than MAX_AGE (unless `recount`), else `count()`'s, kept for the next request. The caller commits."""
    now = utcnow()
    row = ctx.session.get(Tally, (report, key, region_code))
    if row is not None and not recount and row.counted_at > now - MAX_AGE:
        return row.counts, row.counted_at
    figures = count()
    if row is None:
        # Two first requests at once both count; the second's insert is a no-op.
        values = {"report": report, "key": key, "region_code": region_code, "counts": figures, "counted_at": now}
        ctx.session.execute(insert_ignoring_conflicts(ctx.session, Tally).values(values).on_conflict_do_nothing())
    else:
        row.counts, row.counted_at = figures, now
        ctx.session.flush()
    return figures, now
