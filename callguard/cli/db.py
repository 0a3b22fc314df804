"""``callguard db upgrade|current|history|check|prune``: the records database's schema migrations, and pruning the audit log by hand."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click
from sqlalchemy.engine import Engine

from ..errors import CallguardError
from ..retention import DEFAULT_RETENTION, parse_retention
from ..store.audit.pruning import AuditPruner, describe
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


@db.command()
@_database_option
@click.option(
    "--retention", envvar="CALLGUARD_AUDIT_RETENTION", show_envvar=True, default=DEFAULT_RETENTION, show_default=True,
    help="How long decisions are kept: 5y, 400d, 36h, seconds, or forever.",
)
@click.option("--dry-run", is_flag=True, help="Count what would be pruned; change nothing.")
def prune(database_url: str | None, retention: str, dry_run: bool) -> None:
    """Prune audited decisions older than the retention, now and to the end (a server's background
    worker does it every few minutes). Exit 1 if another run is in progress."""
    try:
        kept = parse_retention(retention)
    except ValueError as exc:
        raise BadUsage(f"--retention: {exc}") from None
    with _engine(database_url) as (shown, engine):
        ensure_schema(engine, upgrade=False)
        pruner = AuditPruner(engine, kept)
        report = pruner.run(dry_run=True) if dry_run else pruner.run_to_the_end()
    if report.not_run is not None and not report.batches:
        raise Failed(f"{shown}: nothing pruned: {report.not_run}")
    if report.cutoff is not None:
        expired = datetime.fromtimestamp(report.cutoff, UTC).isoformat(timespec="seconds")
        click.echo(f"{shown}: decisions made before {expired} have expired (retention {kept})")
    click.echo(f"{shown}: {describe(report)}")
    if report.not_run is not None:
        raise Failed(f"{shown}: stopped before the end: {report.not_run}")
