"""``callguard db upgrade|current|history|check``: the records database's schema migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.engine import Engine

from ..errors import CallguardError
from ..store.database import create_database_engine, default_database_url, redact_url
from ..store.migrate import current_revision, ensure_schema, head_revision, history, schema_differences
from .errors import BadUsage, Failed

_database_option = click.option(
    "--database-url", envvar="CALLGUARD_DATABASE_URL", show_envvar=True, help="Database (default: ./callguard.db)."
)


@contextmanager
def _engine(database_url: str | None) -> Iterator[tuple[str, Engine]]:
    url = database_url or default_database_url()
    try:
        engine = create_database_engine(url, timeout=None)  # a schema upgrade takes as long as it takes
    except CallguardError as exc:
        raise BadUsage(str(exc)) from None
    try:
        yield redact_url(url), engine
    finally:
        engine.dispose()


@click.group()
def db() -> None:
    """The records database's schema (Alembic migrations shipped with callguard)."""


@db.command()
@_database_option
def upgrade(database_url: str | None) -> None:
    """Upgrade the schema to this callguard's revision (adopting a database made before migrations)."""
    with _engine(database_url) as (shown, engine):
        before, after = ensure_schema(engine, upgrade=True)
        if before == after:
            click.echo(f"{shown}: already at revision {after}")
        else:
            click.echo(f"{shown}: upgraded from {before or 'nothing'} to revision {after}")


@db.command()
@_database_option
def current(database_url: str | None) -> None:
    """Print the database's revision and whether it is the one this callguard needs. Exit 1 if not."""
    with _engine(database_url) as (shown, engine):
        revision, head = current_revision(engine), head_revision()
    if revision == head:
        click.echo(f"{shown}: revision {revision} (up to date)")
        return
    raise Failed(f"{shown}: revision {revision or 'none'}, this callguard needs {head}: run `callguard db upgrade`")


@db.command("history")
def history_command() -> None:
    """List the migrations this callguard ships, newest first."""
    for entry in history():
        click.echo(f"{entry.down_revision or '<base>'} -> {entry.revision}  {entry.message}")


@db.command()
@_database_option
def check(database_url: str | None) -> None:
    """Compare the database's callguard tables with the code's. Exit 1 and list the differences if any."""
    with _engine(database_url) as (shown, engine):
        differences = schema_differences(engine)
    if not differences:
        click.echo(f"{shown}: the schema matches this callguard's tables")
        return
    for difference in differences:
        click.echo(f"  {difference}")
    raise Failed(f"{shown}: {len(differences)} differences from this callguard's tables")
