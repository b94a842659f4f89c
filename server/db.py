"""Engine and per-context sessions on plain SQLAlchemy 2.x.

A session lives for one application context (a request, a task, a CLI command) and is
closed when the context ends; services receive it explicitly.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Select, create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


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
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)


def init_app(app: Flask) -> None:
    """Bind an engine and a session factory to the app."""
    engine = make_engine(app.config["FIELDCHECK"].database_url)
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


def fetch_page(db_session: Session, query: Select, *, order_by: tuple, offset: int, limit: int) -> tuple[list, int]:
    """One page of a query's rows in a stable order, and the total row count."""
    total = db_session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db_session.scalars(query.order_by(*order_by).offset(offset).limit(limit))
    return list(rows), total
