"""One way to open the system-of-record database, SQLite or PostgreSQL.

Everything durable goes through SQLAlchemy Core on an engine made here, so the same statements
run on the embedded SQLite default and on PostgreSQL. ``postgresql://`` URLs are routed to the
psycopg 3 driver (SQLAlchemy would otherwise pick psycopg2, which callguard does not install),
on connections that cannot hang a call (:mod:`.postgres`): each engine has its
:class:`DatabaseBounds`, and :func:`connection` and :func:`transaction` ask its breaker, and
whether the answer being worked on has time left, before they take a connection.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Insert, Table, create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from .. import deadline
from ..breaker import CircuitBreaker
from ..errors import ConfigError, StoreUnavailable
from ..extras import extra_needed
from .database_bounds import DEFAULT_DATABASE_TIMEOUT, DatabaseBounds

DEFAULT_SQLITE_FILE = "callguard.db"
_BOUNDS: WeakKeyDictionary[Engine, DatabaseBounds] = WeakKeyDictionary()


def database_bounds(engine: Engine) -> DatabaseBounds | None:
    """The bounds of an engine made by :func:`create_database_engine` on PostgreSQL (None on SQLite)."""
    return _BOUNDS.get(engine)


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


def create_database_engine(
    url: str, *, echo: bool = False, timeout: float | None = DEFAULT_DATABASE_TIMEOUT, breaker: CircuitBreaker | None = None
) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql://…``), tuned for callguard.

    On PostgreSQL, ``timeout`` is the statement timeout (None: statements may run as long as
    they take, as a schema upgrade may), and ``breaker`` keeps calls away from a database that
    stopped answering (by default one with a cool-off of a second)."""
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
            from .postgres import bounded_engine
        bounds = DatabaseBounds(breaker or CircuitBreaker("database"), timeout=timeout)
        engine = bounded_engine(parsed, echo=echo, bounds=bounds)
        _BOUNDS[engine] = bounds
        return engine
    raise ConfigError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://", key="CALLGUARD_DATABASE_URL")


def redact_url(url: str) -> str:
    """The URL with any password hidden, for logs and /healthz."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


def admit(engine: Engine, operation: str) -> None:
    """Raise :class:`StoreUnavailable` at once, without taking a connection, when the engine's
    breaker is open or the answer being worked on has no time left for a database call."""
    bounds = _BOUNDS.get(engine)
    if bounds is None:
        return
    if deadline.bound(bounds.connect_timeout) <= 0:
        raise StoreUnavailable("no time left in this answer", backend=engine.dialect.name, operation=operation)
    if not bounds.breaker.allow():
        problem = f"not answering; asked again in {bounds.breaker.retry_in():.1f} s"
        raise StoreUnavailable(problem, backend=engine.dialect.name, operation=operation)


@contextmanager
def transaction(engine: Engine, operation: str) -> Iterator[Connection]:
    """``engine.begin()``, with database errors raised as :class:`StoreUnavailable` naming ``operation``."""
    admit(engine, operation)
    try:
        with engine.begin() as conn:
            yield conn
    except SQLAlchemyError as exc:
        raise StoreUnavailable(str(exc).splitlines()[0], backend=engine.dialect.name, operation=operation) from exc


@contextmanager
def connection(engine: Engine, operation: str) -> Iterator[Connection]:
    """``engine.connect()`` for reads, with database errors raised as :class:`StoreUnavailable`."""
    admit(engine, operation)
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
