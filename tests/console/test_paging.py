"""Lists over a county stop counting at a bound: the count, and what the pager says past it."""

from __future__ import annotations

from sqlalchemy import select

from server import db
from server.models import Region
from server.web.paging import COUNT_UP_TO, pager_args


def test_a_bounded_count_stops_one_past_its_bound(app, world) -> None:
    with app.app_context():
        session = db.session()
        regions = select(Region.code)
        exact = db.bounded_count(session, regions)
        assert exact >= 3
        assert db.bounded_count(session, regions, up_to=exact) == exact
        assert db.bounded_count(session, regions, up_to=1) == 2


def test_past_the_bound_the_pager_offers_the_next_page_while_pages_come_back_full() -> None:
    assert pager_args(page=3, total=120, size=50, shown=20) == {"page": 3, "pages": 3, "total": 120, "more": False}
    assert pager_args(page=1, total=120, size=50, shown=50)["more"]
    beyond = pager_args(page=250, total=COUNT_UP_TO + 1, size=50, shown=50)
    assert beyond == {"page": 250, "pages": None, "total": COUNT_UP_TO, "more": True}
    assert not pager_args(page=260, total=COUNT_UP_TO + 1, size=50, shown=7)["more"]
