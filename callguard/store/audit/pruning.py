"""Pruning the audit log: decisions older than the retention go, in bounded steps, one process at a time.

:meth:`AuditPruner.tick` is what the runtime's background worker runs in every process (the
``audit-retention`` worker); the ``audit-retention`` lease (:mod:`callguard.store.leases`) lets
one process run when a run is due, every :data:`EVERY` seconds. ``callguard db prune`` runs
:meth:`~AuditPruner.run` by hand. Only ``callguard_decisions`` is pruned: opt-outs, consent and
the change log are never touched.

- **SQLite**: rows older than the cut-off are deleted oldest first, at most ``batch_rows`` per
  transaction, with a pause between transactions so the audit writers of every worker get the
  write lock in between; a run stops after ``run_for`` seconds and the next one, due at once,
  goes on.
- **PostgreSQL** (a partition per month, :mod:`.partitions`): each run first creates the
  partitions of the current month and the two after it, then drops every month whose last
  instant is older than the cut-off. The rows of the month the cut-off falls in are kept until
  the whole month has expired (at most a month more than the retention): deleting them row by
  row would cost as much writing and vacuuming as the inserts did, which is what the partitions
  are there to avoid. Rows that landed in the default partition are deleted in batches as on SQLite.

Time and pauses come from the injected clock and sleep: tests move time, never wait.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import DateTime, column, delete, func, select, table
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql import TableClause

from ...clock import Clock, system_clock, utc_datetime
from ...errors import CallguardError, StoreUnavailable
from ...loggers import get_logger
from ...retention import Retention
from ..database import connection, transaction
from ..leases import LeaseStore
from ..schema import decisions
from . import partitions
from .partitions import Month

log = get_logger("callguard.audit")

LEASE = "audit-retention"
EVERY = 300.0  # seconds between runs, across every process sharing the database
POLL = 60.0  # seconds between each process's looks at whether a run is due
BATCH_ROWS = 500  # rows deleted per transaction: SQLite's write lock held about 30 ms (benchmarks/audit_disk.py)
PAUSE = 0.1  # seconds between two transactions, for the writers
RUN_FOR = 60.0  # seconds a run deletes for before it leaves the rest to the next
_HOLD_MARGIN = 60.0  # the lease outlives a run's time bound by this much
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout passed


@dataclass
class PruneReport:
    """What one run did (or, in a dry run, would do)."""

    started_at: float
    cutoff: float | None  # decisions made before it have expired; None: kept forever
    dry_run: bool = False
    created: list[str] = field(default_factory=list)  # partitions made ahead (PostgreSQL)
    dropped: list[str] = field(default_factory=list)  # partitions of expired months (PostgreSQL)
    dropped_rows: int | None = None  # the rows in them, counted in a dry run only
    deleted: int = 0  # rows deleted in batches
    batches: int = 0
    more: bool = False  # stopped by its time bound (or a stop) with expired rows left: due again at once
    deferred: list[str] = field(default_factory=list)  # partition changes that could not get the table's lock in time
    not_run: str | None = None

    def add(self, later: PruneReport) -> None:
        """Take in what the next run of the same pruning did (``callguard db prune`` runs until done)."""
        self.created += later.created
        self.dropped += later.dropped
        self.deleted += later.deleted
        self.batches += later.batches
        self.more = later.more
        self.deferred += [what for what in later.deferred if what not in self.deferred]
        self.not_run = later.not_run


class AuditPruner:
    """Prunes ``callguard_decisions`` on ``engine`` to ``retention`` (None: keeps every row, but
    still makes PostgreSQL's partitions ahead)."""

    def __init__(
        self,
        engine: Engine,
        retention: Retention | None,
        *,
        clock: Clock = system_clock,
        sleep: Callable[[float], None] = time.sleep,
        leases: LeaseStore | None = None,
        holder: str | None = None,
        every: float = EVERY,
        batch_rows: int = BATCH_ROWS,
        pause: float = PAUSE,
        run_for: float = RUN_FOR,
    ) -> None:
        self.engine = engine
        self.retention = retention
        self.clock = clock
        self.sleep = sleep
        self.leases = leases or LeaseStore(engine)
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self.every = every
        self.poll = min(POLL, every)  # how often the runtime's worker ticks
        self.batch_rows = batch_rows
        self.pause = pause
        self.run_for = run_for
        self.postgres = engine.dialect.name == "postgresql"
        self._interrupted = threading.Event()

    @property
    def needed(self) -> bool:
        """Whether this database needs runs at all: a retention to apply, or partitions to make."""
        return self.retention is not None or self.postgres

    def tick(self) -> PruneReport | None:
        """A run if one is due. A database error is logged, not raised: the next tick tries again."""
        try:
            report = self.run()
        except CallguardError as exc:
            log.warning("audit retention could not run: %s", exc)
            return None
        if report.not_run is None and (report.dropped or report.deleted or report.created or report.deferred):
            log.info("audit retention: %s", describe(report))
        return report

    def run_to_the_end(self) -> PruneReport:
        """Run after run (each its own lease and time bound) until nothing expired is left, or
        another process holds the lease."""
        report = self.run(force=True)
        while report.more and report.not_run is None:
            report.add(self.run(force=True))
        return report

    def after_fork(self) -> None:
        """In a forked child: the parent's pooled connections must not be shared with the child."""
        self.engine.dispose(close=False)

    def interrupt(self) -> None:
        """Make a run in progress return after its current transaction (the worker is stopping).
        Said between runs, it cuts the next one short instead: that one leaves the rest to the
        run after it, due at once."""
        self._interrupted.set()

    def run(self, *, dry_run: bool = False, force: bool = False) -> PruneReport:
        """Prune now if the lease allows (scheduled: only when due; ``force``: unless a run is in
        progress elsewhere). A dry run takes no lease and changes nothing: it counts."""
        now = self.clock()
        report = PruneReport(now, self.retention.cutoff(now) if self.retention is not None else None, dry_run=dry_run)
        if dry_run:
            self._survey(report)
            return report
        if not self.leases.acquire(LEASE, self.holder, now=now, hold_for=self.run_for + _HOLD_MARGIN, force=force):
            lease = self.leases.get(LEASE)
            report.not_run = "not due" if lease is None or lease.held_until <= now else f"a run is in progress in {lease.holder}"
            return report
        try:
            if self.postgres:
                self._partitions(report)
            if report.cutoff is not None:
                self._delete(report)
        finally:
            finished = self.clock()
            self.leases.release(LEASE, self.holder, now=finished, next_run_at=finished if report.more else now + self.every)
        return report

    # -- PostgreSQL's partitions ------------------------------------------------------------------

    def _partitions(self, report: PruneReport) -> None:
        with connection(self.engine, "audit partitions") as conn:
            months, default = partitions.partitions(conn)
        if not default:
            self._locked(report, "the default partition", partitions.create_default)
        for month in partitions.months_to_create(months, utc_datetime(report.started_at)):
            if self._locked(report, month.name, partial(partitions.create_month, month=month, default=default)):
                report.created.append(month.name)
        if report.cutoff is not None:
            for month in partitions.expired_months(months, utc_datetime(report.cutoff)):
                if self._locked(report, month.name, partial(partitions.drop_month, month=month)):
                    report.dropped.append(month.name)

    def _locked(self, report: PruneReport, what: str, change: Callable[[Connection], None]) -> bool:
        """Run a partition change in a transaction of its own that waits for the table's lock at
        most :data:`~.partitions.LOCK_WAIT`; one that times out is left for the next run."""
        try:
            with transaction(self.engine, "audit partitions") as conn:
                partitions.wait_for_locks_at_most(conn)
                change(conn)
        except StoreUnavailable as exc:
            cause = exc.__cause__
            if isinstance(cause, OperationalError) and getattr(cause.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
                report.deferred.append(what)
                log.warning("audit retention: %s left for the next run: the table was busy", what)
                return False
            raise
        return True

    # -- batches ------------------------------------------------------------------------------

    def _target(self) -> TableClause | None:
        """Where expired rows are deleted row by row: the table on SQLite, the default partition on
        PostgreSQL (None if there is none)."""
        if not self.postgres:
            return decisions
        with connection(self.engine, "audit partitions") as conn:
            _months, default = partitions.partitions(conn)
        return table(partitions.DEFAULT, column("id"), column("decided_at", DateTime(timezone=True))) if default else None

    def _delete(self, report: PruneReport) -> None:
        target = self._target()
        if target is None or report.cutoff is None:
            return
        expired = target.c.decided_at < utc_datetime(report.cutoff)
        oldest = select(target.c.id).where(expired).order_by(target.c.decided_at).limit(self.batch_rows)
        batch = delete(target).where(target.c.id.in_(oldest))
        deadline = report.started_at + self.run_for
        while True:
            with transaction(self.engine, "audit prune") as conn:
                deleted = conn.execute(batch).rowcount
            report.deleted += deleted
            report.batches += 1
            if deleted < self.batch_rows:
                return
            if self.clock() >= deadline:
                break
            self.sleep(self.pause)  # the writers' turn
            if self._interrupted.is_set():
                self._interrupted.clear()
                break
        report.more = True

    # -- dry runs -----------------------------------------------------------------------------

    def _survey(self, report: PruneReport) -> None:
        with connection(self.engine, "audit prune survey") as conn:
            if self.postgres:
                months, _default = partitions.partitions(conn)
                report.created = [month.name for month in partitions.months_to_create(months, utc_datetime(report.started_at))]
                if report.cutoff is None:
                    return
                expired: list[Month] = partitions.expired_months(months, utc_datetime(report.cutoff))
                report.dropped = [month.name for month in expired]
                report.dropped_rows = sum(
                    conn.execute(select(func.count()).select_from(table(month.name))).scalar_one() for month in expired
                )
            if report.cutoff is None:
                return
        target = self._target()
        if target is not None:
            with connection(self.engine, "audit prune survey") as conn:
                report.deleted = conn.execute(
                    select(func.count()).select_from(target).where(target.c.decided_at < utc_datetime(report.cutoff))
                ).scalar_one()


def describe(report: PruneReport) -> str:
    """The report in one line, for logs and the CLI."""
    dry = report.dry_run
    parts = []
    if report.created:
        parts.append(f"{'would make' if dry else 'made'} partitions {', '.join(report.created)}")
    if report.dropped:
        rows = f" ({_count(report.dropped_rows, 'row')})" if report.dropped_rows is not None else ""
        parts.append(f"{'would drop' if dry else 'dropped'} expired partitions {', '.join(report.dropped)}{rows}")
    if report.cutoff is None:
        parts.append("every decision is kept (retention forever)")
    elif dry:
        parts.append(f"would delete {_count(report.deleted, 'row')}")
    else:
        parts.append(f"deleted {_count(report.deleted, 'row')} in {_count(report.batches, 'batch', 'batches')}")
    if report.more:
        parts.append("more to prune: the next run goes on")
    if report.deferred:
        parts.append(f"left for the next run, the table being busy: {', '.join(report.deferred)}")
    return "; ".join(parts)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"
