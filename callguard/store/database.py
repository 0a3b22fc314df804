"""One way to open the system-of-record database, SQLite or PostgreSQL.

Everything durable goes through SQLAlchemy Core on an engine made here, so the same statements
run on the embedded SQLite default and on PostgreSQL. ``postgresql://`` URLs are routed to the
psycopg 3 driver (SQLAlchemy would otherwise pick psycopg2, which callguard does not install).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Insert, Table, create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from ..errors import ConfigError, StoreUnavailable
from ..extras import extra_needed

DEFAULT_SQLITE_FILE = "callguard.db"


def default_database_url(directory: str | None = None) -> str:
    """``sqlite:///<absolute path>/callguard.db`` in ``directory`` (default: the working directory)."""
    return "sqlite:///" + os.path.abspath(os.path.join(directory or os.getcwd(), DEFAULT_SQLITE_FILE))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets gunicorn workers read while one writes; FULL makes a commit survive power loss,
    # which opt-outs (acknowledged to callers only after commit) depend on.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_database_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql://…``), tuned for callguard."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"{url!r} is not a database URL", key="CALLGUARD_DATABASE_URL") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ConfigError(
                "an in-memory SQLite database is not shared between workers; name a file", key="CALLGUARD_DATABASE_URL"
            )
        engine = create_engine(parsed, echo=echo, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        with extra_needed("postgres", setting="CALLGUARD_DATABASE_URL"):  # the driver is imported here
            return create_engine(
                parsed,
                echo=echo,
                pool_pre_ping=True,
                pool_size=5,
                max_overflow=5,
                pool_timeout=5,
                connect_args={"connect_timeout": 5},
            )
    raise ConfigError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://", key="CALLGUARD_DATABASE_URL")


def redact_url(url: str) -> str:
    """The URL with any password hidden, for logs and /healthz."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


@contextmanager
def transaction(engine: Engine, operation: str) -> Iterator[Connection]:
    """``engine.begin()``, with database errors raised as :class:`StoreUnavailable` naming ``operation``."""
    try:
        with engine.begin() as conn:
            yield conn
    except SQLAlchemyError as exc:
        raise StoreUnavailable(str(exc).splitlines()[0], backend=engine.dialect.name, operation=operation) from exc


@contextmanager
def connection(engine: Engine, operation: str) -> Iterator[Connection]:
    """``engine.connect()`` for reads, with database errors raised as :class:`StoreUnavailable`."""
    try:
        with engine.connect() as conn:
            yield conn
    except SQLAlchemyError as exc:
        raise StoreUnavailable(str(exc).splitlines()[0], backend=engine.dialect.name, operation=operation) from exc


def insert_ignoring_duplicates(engine: Engine, table: Table) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` in the engine's dialect (SQLite and PostgreSQL both have it)."""
    if engine.dialect.name == "postgresql":
        return postgresql_insert(table).on_conflict_do_nothing()
    return sqlite_insert(table).on_conflict_do_nothing()
