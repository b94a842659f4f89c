"""A scratch PostgreSQL database for a benchmark, and the app on it: seeded freely, dropped afterwards.

Never the configured database itself: a benchmark seeds regions, staff and people of its own.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from flask import Flask
from sqlalchemy.engine import make_url

from server import db, migrate
from server.app import create_app
from server.config import Settings

DEFAULT_SERVER = os.environ.get("FIELDCHECK_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _server(database_url: str) -> str:
    """A libpq URL to the maintenance database of the server database_url names, or the local default."""
    if not database_url.startswith("postgresql"):
        return DEFAULT_SERVER
    return make_url(database_url).set(drivername="postgresql", database="postgres").render_as_string(False)


@contextmanager
def scratch_database(database_url: str = "") -> Iterator[str]:
    """A new database on the server database_url names (or the local one), as a SQLAlchemy URL; dropped after."""
    server = _server(database_url)
    name = f"fieldcheck_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(drivername="postgresql+psycopg", database=name).render_as_string(False)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def kept_database(database_url: str, name: str) -> Iterator[str]:
    """The database `name` on the server database_url names, created when missing and left in place after."""
    server = _server(database_url)
    with psycopg.connect(server, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    yield make_url(server).set(drivername="postgresql+psycopg", database=name).render_as_string(False)


@contextmanager
def scratch_app(database_url: str = "", keep: str | None = None) -> Iterator[Flask]:
    """The app on a migrated scratch database (or the kept one named `keep`), with a throwaway instance folder.

    The data key is derived from the kept database's name, so rows a first run encrypted decrypt in the next.
    """
    database = kept_database(database_url, keep) if keep else scratch_database(database_url)
    data_key = hashlib.sha256(f"fieldcheck bench {keep}".encode()).digest() if keep else secrets.token_bytes(32)
    with database as url, tempfile.TemporaryDirectory() as instance:
        app = create_app(
            Settings(
                instance_path=Path(instance),
                database_url=url,
                storage_url=f"file://{instance}/objects",
                broker_url="memory://",
                secret_key=secrets.token_urlsafe(32),
                data_key=data_key,
            )
        )
        with app.app_context():
            migrate.upgrade(db.engine())
        try:
            yield app
        finally:
            with app.app_context():
                db.engine().dispose()
