"""Migrations of the records database (Alembic), and what start-up does about them.

The migration scripts ship inside the package (``callguard/store/migrations``), so an installed
wheel can migrate; Alembic is driven from here with an open connection, never from an
``alembic.ini``. :func:`ensure_schema` is what start-up and the CLI call: it takes a lock no other
callguard process can hold at the same time (a PostgreSQL advisory lock; on SQLite, which lives
on one host, an exclusive ``flock``), then either upgrades the schema to the code's revision or,
with ``upgrade=False``, refuses with one line saying what to run. A database made by ``create_all``
before callguard had migrations is adopted by the first migration, which creates only the tables
that are missing.
"""

from __future__ import annotations

import fcntl
import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from ..errors import SchemaMismatch, StoreUnavailable
from ..loggers import get_logger
from .audit.partitions import PARTITION_NAME
from .schema import metadata

log = get_logger("callguard.store")

MIGRATIONS_DIRECTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
# Not Alembic's default ``alembic_version``: the database may be shared with an application
# that has migrations of its own.
VERSION_TABLE = "callguard_alembic_version"
TABLE_PREFIX = "callguard_"
_ADVISORY_LOCK_KEY = 0x63616C6C  # "call": serialises migrations across PostgreSQL clients


def _include_name(name: str | None, type_: str, _parents: Any) -> bool:
    """Only callguard's own tables are compared and migrated; the audit table's partitions on
    PostgreSQL are made and dropped as time passes, not by migrations."""
    return type_ != "table" or ((name or "").startswith(TABLE_PREFIX) and not PARTITION_NAME.fullmatch(name or ""))


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIRECTORY)
    config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    """The revision this callguard's code needs."""
    head = _scripts().get_current_head()
    assert head is not None, "callguard ships at least one migration"
    return head


@dataclass(frozen=True)
class Revision:
    revision: str
    down_revision: str | None
    message: str


def history() -> list[Revision]:
    """Every migration this callguard knows, newest first."""
    return [
        Revision(script.revision, script.down_revision, script.doc)  # type: ignore[arg-type]
        for script in _scripts().walk_revisions()
    ]


def configure_context(context: Any) -> None:
    """Configure Alembic's environment (called by ``migrations/env.py``)."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise CommandError("callguard's migrations run through `callguard db upgrade`, not the alembic command")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        include_name=_include_name,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    )


def _migration_context(conn: Connection) -> MigrationContext:
    return MigrationContext.configure(
        conn, opts={"version_table": VERSION_TABLE, "include_name": _include_name, "target_metadata": metadata}
    )


@contextmanager
def _store_errors(engine: Engine, operation: str) -> Iterator[None]:
    try:
        yield
    except SQLAlchemyError as exc:
        raise StoreUnavailable(str(exc).splitlines()[0], backend=engine.dialect.name, operation=operation) from exc


@contextmanager
def _exclusive(engine: Engine) -> Iterator[Connection]:
    """A transaction no other callguard process is migrating in at the same time."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
            yield conn
        return
    # Lock the database's directory, never the database file: closing any descriptor of that
    # file would release SQLite's own POSIX locks held by this process.
    directory = os.path.dirname(os.path.abspath(engine.url.database or ""))
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        with engine.begin() as conn:
            yield conn
    finally:
        os.close(descriptor)  # releases the flock


def current_revision(engine: Engine) -> str | None:
    """The database's revision; None when it has no migration history."""
    with _store_errors(engine, "schema revision"), engine.connect() as conn:
        return _migration_context(conn).get_current_revision()


def _is_known(revision: str) -> bool:
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def ensure_schema(engine: Engine, *, upgrade: bool = True) -> tuple[str | None, str]:
    """Bring the schema to the code's revision (or, with ``upgrade=False``, check it is there).

    Returns (the revision found, the revision now). Raises :class:`SchemaMismatch` with what to
    do when the schema is behind and may not be upgraded, or is newer than this code.
    Safe when several workers or hosts start at once.
    """
    head = head_revision()
    with _store_errors(engine, "schema migration"), _exclusive(engine) as conn:
        current = _migration_context(conn).get_current_revision()
        if current == head:
            return current, head
        if current is not None and not _is_known(current):
            raise SchemaMismatch(
                f"the database schema is at revision {current}, which this callguard does not know "
                f"(it needs {head}): a newer callguard migrated it; upgrade callguard",
                current=current,
                required=head,
            )
        if not upgrade:
            if current is not None:
                problem = f"the database schema is at revision {current}, this callguard needs {head}"
            elif any(name.startswith(TABLE_PREFIX) for name in inspect(conn).get_table_names()):
                problem = f"the database has callguard tables but no migration history (this callguard needs revision {head})"
            else:
                problem = f"the database has no callguard schema (this callguard needs revision {head})"
            raise SchemaMismatch(
                f"{problem}: run `callguard db upgrade`, or set CALLGUARD_AUTO_MIGRATE=true", current=current, required=head
            )
        command.upgrade(_config(conn), "head")
    log.info("database schema upgraded from %s to %s", current or "nothing", head)
    return current, head


def schema_differences(engine: Engine) -> list[str]:
    """What differs between the database's callguard tables and the code's (Alembic's autogenerate
    comparison), one line each; empty when they match."""
    with _store_errors(engine, "schema comparison"), engine.connect() as conn:
        return [_describe(difference) for difference in compare_metadata(_migration_context(conn), metadata)]


def _describe(difference: Any) -> str:
    """One line for one of Alembic's difference tuples (a list of them for one column's changes)."""
    if isinstance(difference, list):
        return "; ".join(_describe(item) for item in difference)
    kind = difference[0]
    if kind.startswith("modify_"):
        _, _schema, table, column, _existing, found, wanted = difference
        return f"{kind} {table}.{column}: the database has {found}, the code {wanted}"
    if kind in ("add_column", "remove_column"):
        return f"{kind} {difference[2]}.{difference[3].name}"
    item = difference[-1]
    table = getattr(item, "table", None)
    return f"{kind} {item.name}" + (f" on {table.name}" if table is not None else "")
