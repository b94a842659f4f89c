"""What the console's lists share: the people a page of rows names, the staff by id, and the list of payment
stops (suspensions and terminations), newest approved first, a page at a time."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from flask import g, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import load_only

from server.context import Ctx
from server.db import PageRequest
from server.models import Beneficiary
from server.services import staff

STOPS_PAGE_SIZE = 50
QUEUE_PAGE_SIZE = 50


def page_number() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def staff_names(context: Ctx) -> dict[str, str]:
    """The display names of the staff in the signed-in user's region, by id as text (as audit entries hold it)."""
    return {str(user.id): user.display_name for user in staff.list_staff(context, actor=g.actor)[0]}


def people_of(context: Ctx, rows: Iterable[Any]) -> dict[uuid.UUID, Beneficiary]:
    """The people the rows name (by `beneficiary_id`), in one query, their encrypted columns left unread."""
    ids = {row.beneficiary_id for row in rows}
    if not ids:
        return {}
    query = (
        select(Beneficiary)
        .where(Beneficiary.id.in_(ids))
        .options(load_only(Beneficiary.id, Beneficiary.name, Beneficiary.village_code))
    )
    return {person.id: person for person in context.session.scalars(query)}


def stops_page(context: Ctx, template: str, fetch: Callable[..., list], **values: Any) -> str:
    """A page of suspensions or terminations; `fetch(offset=, limit=)` lists them. One row more than the
    page is read to know whether a next page exists, so the list is never counted."""
    page = page_number()
    rows = fetch(offset=(page - 1) * STOPS_PAGE_SIZE, limit=STOPS_PAGE_SIZE + 1)
    items = rows[:STOPS_PAGE_SIZE]
    return render_template(
        template,
        items=items,
        people=people_of(context, items),
        paging={"page": page, "pages": None, "total": None, "more": len(rows) > STOPS_PAGE_SIZE},
        **values,
    )


def queue_page(context: Ctx, template: str, fetch: Callable[[PageRequest], tuple[list, int]]) -> str:
    """A counted page of rows that name a person and a staff member (a queue of proposals, alerts); `fetch(page)`
    lists them with their total."""
    page = page_number()
    items, total = fetch(PageRequest(offset=(page - 1) * QUEUE_PAGE_SIZE, limit=QUEUE_PAGE_SIZE))
    return render_template(
        template,
        items=items,
        people=people_of(context, items),
        staff_names=staff_names(context),
        total=total,
        page=page,
        pages=max(1, -(-total // QUEUE_PAGE_SIZE)),
    )
