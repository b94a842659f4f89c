"""Engine, per-context sessions and the unit of work, on plain SQLAlchemy 2.x.

A session lives for one application context (a request, a task, a CLI command) and is
closed when the context ends; services receive it explicitly (in their `Ctx`).

Transactions have one owner: the use case. A route, a task or a CLI command opens one unit of
work (`@transaction` on a view, `with unit_of_work(session):` elsewhere); services only flush.
The unit commits on success, rolls back on any error, and turns a concurrent change to a
versioned row (StaleDataError) into 409, or 412 when the request carried If-Match. A service
that must commit piece by piece (batch sync, imports, reminder delivery) opens one unit per
piece. The few commits that must happen before the use case ends are `commit_early(session,
reason)`, each reason one of EARLY_COMMITS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import ColumnElement, Select, UnaryExpression, create_engine, event, func, select, tuple_
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql import operators

from server import crypto
from server.services.errors import Conflict, DomainError, PreconditionFailed

log = logging.getLogger(__name__)

# Commits that may not wait for the end of the use case, and why.
LEASE_CLAIM = "lease claim: other workers must see the row taken before this one works on it"
AUDIT_BEFORE_DECRYPT = "audit entry before decryption: no one sees a photo without the entry standing"
EARLY_COMMITS = (LEASE_CLAIM, AUDIT_BEFORE_DECRYPT)
_OPEN = "fieldcheck.unit_of_work"


def make_engine(url: str) -> Engine:
    """An engine with the settings each backend needs.

    `hide_parameters`: an error's message (and so a logged traceback) names the SQL but not the
    values bound to it, which are names, usernames and ID hashes.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            # WAL lets the API read while the worker writes; foreign keys are off by default in SQLite.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    # No server-side prepared statements (psycopg prepares a query after five runs): PostgreSQL may then
    # switch to a generic plan, blind to the region prefix and dates, and for the console's grouped counts
    # a generic plan was seen nesting loops over 150,000 people for minutes where the planned one takes
    # a fraction of a second. No JIT either: the console's counts over a county cost enough to trigger it,
    # and compiling them took 100 ms of a 250 ms query on every request (JIT pays off on hour-long
    # reports, not on pages).
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        hide_parameters=True,
        connect_args={"prepare_threshold": None, "options": "-c jit=off"},
    )


def init_app(app: Flask) -> None:
    """Bind an engine (with the app's cipher for encrypted columns) and a session factory to the app."""
    engine = make_engine(app.config["FIELDCHECK"].database_url)
    crypto.bind(engine, app.extensions["fieldcheck.cipher"])
    app.extensions["fieldcheck.db"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    """The running application's engine."""
    return current_app.extensions["fieldcheck.db"].kw["bind"]


def session() -> Session:
    """The session of the current application context."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["fieldcheck.db"]()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


def bounded_count(db_session: Session, query: Select, up_to: int | None = None) -> int:
    """How many rows the query yields; with `up_to`, counting stops past it (a result of up_to + 1 means
    "more than up_to"), so a page over a whole county does not count 150,000 rows to say "10,000+"."""
    return db_session.scalar(_count_of(query, up_to))


def _count_of(query: Select, up_to: int | None) -> Select:
    if up_to is not None:
        query = query.limit(up_to + 1)
    return select(func.count()).select_from(query.subquery())


def sort_columns(order_by: tuple) -> tuple[list[ColumnElement], bool]:
    """The columns of a list's order and whether it descends. A keyset compares the whole sort key as one
    row value, which PostgreSQL reads as a range of the index that holds the order: so one direction only."""
    columns, descending = [], set()
    for term in order_by:
        desc = isinstance(term, UnaryExpression) and term.modifier is operators.desc_op
        columns.append(term.element if isinstance(term, UnaryExpression) else term)
        descending.add(desc)
    if len(descending) != 1:
        raise ValueError("a keyset order runs in one direction")
    return columns, descending.pop()


def sort_key(row: Any, order_by: tuple) -> tuple:
    """A row's values of the list's sort key: where the next page starts (`PageRequest.after`)."""
    return tuple(getattr(row, column.key) for column in sort_columns(order_by)[0])


@dataclass(frozen=True)
class PageRequest:
    """Which rows of a list to read: `limit` rows from `offset`, or (a keyset) the `limit` rows after the row
    whose sort key is `after`; the total is counted up to `count_up_to` (all of them when None)."""

    offset: int = 0
    limit: int | None = None
    count_up_to: int | None = None
    after: tuple | None = None


def fetch_page(db_session: Session, query: Select, *, order_by: tuple, page: PageRequest) -> tuple[list, int | None]:
    """One page of a query's rows in a stable order, and the total row count (bounded by `count_up_to`).

    `query` selects one entity. The page starts `offset` rows in, or (a keyset) right after the row whose sort
    key is `after`, which an index holding the order reaches directly however deep the page: an OFFSET reads
    and skips every row before it. The count and, past the first page, an offset page's keys are read from the
    keys alone, which an index holding the sort and scope columns answers without visiting the table; only
    the page's own rows are loaded. A keyset page counts nothing (its total is None): the walk's first page
    said how many rows there are, and counting them again cost a deep page as much as reading it."""
    keys = query.with_only_columns(query.column_descriptions[0]["entity"].id)
    if page.after is not None:
        columns, descending = sort_columns(order_by)
        past = tuple_(*columns) < tuple_(*page.after) if descending else tuple_(*columns) > tuple_(*page.after)
        return list(db_session.scalars(query.where(past).order_by(*order_by).limit(page.limit))), None
    if page.offset:
        page_keys = keys.order_by(*order_by).offset(page.offset).limit(page.limit)
        rows_query = query.where(keys.selected_columns[0].in_(page_keys.scalar_subquery()))
    else:
        rows_query = query.limit(page.limit)
    # The count rides along with the page (PostgreSQL runs the uncorrelated subquery once): one round trip
    # fewer, which on a busy server is a millisecond or more. Only a page past the end counts on its own.
    count = _count_of(keys, page.count_up_to).scalar_subquery()
    rows = db_session.execute(rows_query.add_columns(count).order_by(*order_by)).all()
    total = rows[0][1] if rows else bounded_count(db_session, keys, page.count_up_to)
    return [row[0] for row in rows], total


def insert_as_loaded(db_session: Session, statement: Any, row: Any) -> bool:
    """Insert a new object with a statement built once (cheaper than the unit of work's flush on a hot path) and
    let the session hold it as loaded, without reading it back: every column must be set, defaults included.
    A statement that RETURNs rows inserts only where it returns one (an ON CONFLICT DO NOTHING); returns
    whether the row went in."""
    result = db_session.execute(statement, {column.key: getattr(row, column.key) for column in row.__table__.columns})
    if result.returns_rows and result.first() is None:
        return False
    make_transient_to_detached(row)
    db_session.add(row)
    return True


def streamed(db_session: Session, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """A response body that reads the database as it is sent, after the view's unit has committed and its app
    context has ended (and with it the session's teardown): the read is a transaction of its own, ended here
    when the body is sent or the client goes."""
    try:
        yield from chunks
    finally:
        db_session.close()


def _stale(exc: StaleDataError) -> DomainError:
    """The one answer to a concurrent change: 412 for a request that sent If-Match, 409 otherwise."""
    if has_request_context() and request.headers.get("If-Match"):
        return PreconditionFailed(
            "the record changed since you read it: GET it again and send If-Match with the new ETag",
            {"_": ["stale_version"]},
        )
    return Conflict("the record changed meanwhile: read it again and redo the change", {"_": ["stale_version"]})


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """One use case's transaction: commits on success, rolls back on any error. Does not nest."""
    if session.info.get(_OPEN):
        raise RuntimeError("a unit of work is already open on this session")
    session.info[_OPEN] = True
    try:
        yield session
        session.commit()
    except StaleDataError as exc:
        session.rollback()
        raise _stale(exc) from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info[_OPEN] = False


@contextmanager
def savepoint(session: Session) -> Iterator[Session]:
    """Part of a unit that may fail alone (a duplicate insert, a stale edit) without undoing the rest."""
    try:
        with session.begin_nested():
            yield session
    except StaleDataError as exc:
        raise _stale(exc) from exc


def transaction(view: Callable) -> Callable:
    """Run a view (or any function called in an app context) as one unit of work on the context's session."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with unit_of_work(session()):
            return view(*args, **kwargs)

    return wrapper


def commit_early(session: Session, reason: str) -> None:
    """Commit before the use case ends, for one of the reasons in EARLY_COMMITS only."""
    if reason not in EARLY_COMMITS:
        raise ValueError(f"not a deliberate early commit: {reason}")
    log.debug("early commit: %s", reason)
    session.commit()
