"""One way to page every list of the API: by page number, or by an opaque cursor that reaches any depth as
fast as the first page, with a total counted up to a bound.

A paginated view takes `pagination_parameters` (a `Paging`), hands its `rows` (a `server.db.PageRequest`:
offset or cursor key, fetch size and bound) to the service, whose `server.db.fetch_page` reads them, and
returns `page_of(items, total)`. Its
response's `X-Pagination` header is a JSON object:

- `total`, `total_exact`: the rows counted, up to the `count_up_to` setting (10,000): past it `total` is that
  bound and `total_exact` false ("more than 10,000"). Counting a county's 150,000 people exactly took longer
  than reading the page. A page asked for by cursor has neither: the first page of the walk said them.
- `page`, `first_page`, `previous_page`, `next_page` on a page asked for by number; `last_page` and
  `total_pages` too when the total is exact.
- `next_cursor` on the lists that offer one, while rows follow: send it back as `cursor` (instead of `page`)
  for the next page. It carries the page's last sort key, encrypted and authenticated with the server's key
  and bound to the list, so it reveals nothing (a name is part of the registry's key) and one this server did
  not issue for this list answers 400 `invalid_cursor`. A row added or removed meanwhile neither repeats nor
  hides another: each page starts right after the previous page's last row.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from copy import deepcopy
from datetime import date, datetime
from functools import wraps
from typing import Any

import flask_smorest
from flask import request
from flask_smorest.utils import unpack_tuple_response
from marshmallow import EXCLUDE, ValidationError, fields, validate, validates_schema

from server import db
from server.api.access import ctx, settings
from server.api.errors import declare
from server.crypto import DecryptionError
from server.schemas.common import Schema
from server.services.errors import BadRequest

# flask-smorest's defaults, which the API has always had.
PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
# A cursor of the longest sort key (a village, a 100-character name, an id) stays well under this.
CURSOR_MAX_LENGTH = 1024


class PageParametersSchema(Schema):
    class Meta:
        # The view's own query schema reads the rest of the query string.
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1), metadata={"description": "Page number."})
    page_size = fields.Integer(
        load_default=PAGE_SIZE,
        validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
        metadata={"description": "Rows per page."},
    )


class CursorPageParametersSchema(PageParametersSchema):
    page = fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "Page number (1 when no cursor is sent)."}
    )
    cursor = fields.String(
        metadata={"description": "`next_cursor` of the previous page's X-Pagination: the rows after it."}
    )

    @validates_schema
    def _one_way(self, data: dict, **_kwargs) -> None:
        if "page" in data and "cursor" in data:
            raise ValidationError("not_with_cursor", "page")


class PaginationMetadataSchema(Schema):
    """The X-Pagination header (see server.api.paging)."""

    total = fields.Integer(
        metadata={
            "description": "Rows in the list; when total_exact is false, there are more than this many. "
            "Pages asked for by cursor carry no total: the walk's first page said it."
        }
    )
    total_exact = fields.Boolean(metadata={"description": "Whether total is the exact count."})
    total_pages = fields.Integer(metadata={"description": "Pages in the list (exact totals only)."})
    first_page = fields.Integer(metadata={"description": "First page number."})
    last_page = fields.Integer(metadata={"description": "Last page number (exact totals only)."})
    page = fields.Integer(metadata={"description": "This page's number (pages asked for by number)."})
    previous_page = fields.Integer(metadata={"description": "Previous page number."})
    next_page = fields.Integer(metadata={"description": "Next page number, while rows follow."})
    next_cursor = fields.String(
        metadata={"description": "Send as `cursor` for the rows after this page; absent on the last page."}
    )


# One instance for every page's header: a schema's construction copies its fields, which each request paid.
_METADATA = PaginationMetadataSchema()


def _invalid_cursor() -> BadRequest:
    return BadRequest(
        "the cursor is not one this list gave out: start again from the first page", {"cursor": ["invalid_cursor"]}
    )


def _python_type(column: Any) -> type:
    column_type = column.type
    return getattr(column_type, "impl", column_type).python_type


def _to_json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return str(value) if isinstance(value, uuid.UUID) else value


def _from_json(kind: type, value: Any) -> Any:
    """A sort key's value back as its column's type, so it binds as one."""
    if kind is datetime or kind is date:
        return kind.fromisoformat(value)
    if kind is uuid.UUID:
        return uuid.UUID(value)
    if not isinstance(value, kind):
        raise ValueError(f"not a {kind.__name__}")
    return value


def _context() -> str:
    # Bound to the list: another list's cursor, or one moved between lists, fails authentication.
    return f"page-cursor:{request.endpoint}"


def encode_cursor(key: tuple) -> str:
    """An opaque token for a sort key, encrypted with the server's key: the key may hold a person's name."""
    plain = json.dumps([_to_json(value) for value in key], ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(ctx().cipher.encrypt(plain, context=_context())).rstrip(b"=").decode()


def decode_cursor(cursor: str, order_by: tuple) -> tuple:
    """The sort key a cursor of this list carries; 400 `invalid_cursor` for any other text."""
    if len(cursor) > CURSOR_MAX_LENGTH:
        raise _invalid_cursor()
    columns, _descending = db.sort_columns(order_by)
    try:
        token = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        values = json.loads(ctx().cipher.decrypt(token, context=_context()))
        if not isinstance(values, list) or len(values) != len(columns):
            raise ValueError("not this list's key")
        return tuple(_from_json(_python_type(column), value) for column, value in zip(columns, values, strict=True))
    except (binascii.Error, DecryptionError, ValueError, TypeError) as exc:
        raise _invalid_cursor() from exc


class Paging:
    """What a paginated view is asked for, and what it found (`page_of`)."""

    def __init__(self, *, page: int | None, page_size: int, after: tuple | None, order_by: tuple | None) -> None:
        self.page = page
        self.page_size = page_size
        # The sort key of the row the page starts after (a cursor's), or None for a page by number.
        self.after = after
        self.order_by = order_by
        self.count_up_to: int = settings().count_up_to
        self.item_count: int | None = None
        self._more: bool | None = None
        self._next: tuple | None = None

    @property
    def first_item(self) -> int:
        """The page's offset (0 for a cursor page)."""
        return 0 if self.page is None else (self.page - 1) * self.page_size

    @property
    def fetch_size(self) -> int:
        """The rows to read: one more than the page, whose presence says another page follows."""
        return self.page_size + 1

    @property
    def rows(self) -> db.PageRequest:
        """What the service reads for this page (`server.db.fetch_page`); hand what it finds to `page_of`."""
        return db.PageRequest(
            offset=self.first_item, limit=self.fetch_size, count_up_to=self.count_up_to, after=self.after
        )

    def page_of(self, items: list, total: int | None) -> list:
        """The page's rows out of the `fetch_size` read, noting the total (None on a cursor's page) and where
        the next page starts."""
        self.item_count = total
        self._more = len(items) > self.page_size
        items = items[: self.page_size]
        if self._more and self.order_by is not None:
            self._next = db.sort_key(items[-1], self.order_by)
        return items

    def metadata(self) -> dict:
        meta: dict[str, Any] = {}
        if self._next is not None:
            meta["next_cursor"] = encode_cursor(self._next)
        if self.page is None:
            return _METADATA.dump(meta)
        total = self.item_count or 0
        exact = total <= self.count_up_to
        more = self._more if self._more is not None else self.first_item + self.page_size < total
        meta.update(total=total if exact else self.count_up_to, total_exact=exact)
        if exact:
            # flask-smorest's own numbering, which the API has always sent.
            meta.update(flask_smorest.Blueprint._make_pagination_metadata(self.page, self.page_size, total))
        else:
            meta.update(first_page=1, page=self.page)
            if self.page > 1:
                meta["previous_page"] = self.page - 1
            if more:
                meta["next_page"] = self.page + 1
        return _METADATA.dump(meta)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint whose `paginate` pages by number or cursor and bounds the total."""

    def arguments(self, schema: type[Schema] | Schema, *args: Any, **kwargs: Any) -> Callable:
        """flask-smorest's `arguments`, with a schema class made an instance once, when the view is declared:
        given the class, webargs makes one per request, and with it a copy of every field and nested schema."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)

    def paginate(self, *, order_by: tuple | None = None) -> Callable:
        """Page the view's list. `order_by` is the list's order (one direction): with it the list also pages
        by cursor, whose key it is."""
        schema = CursorPageParametersSchema() if order_by is not None else PageParametersSchema()

        def decorator(func: Callable) -> Callable:
            @wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                asked = self.PAGINATION_ARGUMENTS_PARSER.parse(schema, request, location="query")
                cursor = asked.get("cursor")
                paging = Paging(
                    page=None if cursor is not None else asked.get("page", 1),
                    page_size=asked["page_size"],
                    after=None if cursor is None else decode_cursor(cursor, order_by),
                    order_by=order_by,
                )
                result, status, headers = unpack_tuple_response(func(*args, pagination_parameters=paging, **kwargs))
                headers = dict(headers or {})
                headers[self.PAGINATION_HEADER_NAME] = json.dumps(paging.metadata())
                return result, status, headers

            wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
            wrapper._apidoc["pagination"] = {
                "parameters": {"in": "query", "schema": schema},
                "response": {422: "UNPROCESSABLE_ENTITY"},
            }
            if order_by is not None:
                declare(wrapper, (400,))
            return wrapper

        return decorator
