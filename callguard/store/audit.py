"""The audit log of decisions: every decision the engine makes becomes one row.

:class:`SqlAuditLog` writes and reads rows synchronously. :class:`BatchingAuditLog` is what a
web worker uses: :meth:`~BatchingAuditLog.record` only appends to an in-memory queue (no I/O on
the request's thread), and a background thread writes the queue in batches every
``flush_interval`` seconds, at shutdown, and after a fork in the child. If the database is down
the rows wait in the queue (bounded by ``max_backlog``; beyond it the oldest are dropped,
counted and logged) and are written when it comes back.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import compress
from math import modf
from operator import is_not
from typing import Any, Callable, Sequence

from sqlalchemy import func, insert, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from ..clock import utc_datetime
from ..decision import Decision
from ..errors import StoreUnavailable
from .database import connection
from .schema import COLUMN_LENGTHS, decisions

log = logging.getLogger("callguard.audit")


def _clip(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    return value.replace("\x00", "\ufffd")[:limit]  # PostgreSQL text cannot hold NUL


# The table's columns but the id, in order: what decision_values() gives a value for.
DECISION_COLUMNS: tuple[str, ...] = tuple(decisions.c.keys()[1:])
_ACCOUNT, _CALL, _TO, _FROM, _SOURCE, _SIP, _CAMPAIGN = (
    COLUMN_LENGTHS[name] for name in ("account_sid", "call_sid", "to_raw", "from_raw", "source", "sip_domain", "campaign")
)


def decision_values(decision: Decision) -> list[Any]:
    """The ``callguard_decisions`` row for a decision, a value per :data:`DECISION_COLUMNS`,
    ``decided_at`` as the decision's epoch seconds (the writer binds the column's value from it).

    What the caller sent (account, numbers, call SID, SIP domain) is clipped to its column and
    cleaned of NUL; what callguard computed is bounded by construction. (Every decision is a
    row: enum values are read as ``_value_``, not through the slower ``value`` property.)
    """
    request = decision.request
    info = decision.info
    to = request.to
    return [
        decision.decided_at,
        _clip(request.account_sid, _ACCOUNT),
        _clip(request.call_sid, _CALL),
        decision.action._value_,
        ",".join(decision.reasons),
        decision.sentence.replace("\x00", "\ufffd"),
        _clip(to if isinstance(to, str) else repr(to), _TO),
        _clip(request.from_, _FROM),
        decision.target.kind._value_,
        decision.target.e164,
        decision.caller_id,
        info.region if info is not None else None,
        info.country_code if info is not None else None,
        info.type_name if info is not None else None,
        info.risk._value_ if info is not None else None,
        ",".join(decision.checks),
        _clip(request.source, _SOURCE),
        _clip(request.sip_domain, _SIP),
        _clip(request.campaign, _CAMPAIGN),
        round(decision.elapsed_us, 1),
        decision.fault.replace("\x00", "\ufffd") if decision.fault else None,
    ]


def decision_row(decision: Decision) -> dict[str, Any]:
    """The ``callguard_decisions`` row for a decision, by column name, as ``insert(decisions)``
    takes it (see :func:`decision_values`; ``decided_at`` an aware UTC datetime)."""
    row = dict(zip(DECISION_COLUMNS, decision_values(decision)))
    row["decided_at"] = utc_datetime(row["decided_at"])
    return row


@dataclass(frozen=True)
class AuditRecord:
    """One row of the audit log as read back."""

    id: int
    decided_at: float
    account_sid: str | None
    call_sid: str | None
    action: str
    reasons: tuple[str, ...]
    sentence: str
    to_raw: str | None
    from_raw: str | None
    e164: str | None
    caller_id: str | None
    region: str | None
    risk: str | None
    checks: tuple[str, ...]
    source: str | None
    fault: str | None
    campaign: str | None = None


class SqlAuditLog:
    """Synchronous reads and writes of the ``callguard_decisions`` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert = _DriverInsert(engine, DECISION_COLUMNS)

    def record(self, decision: Decision) -> None:
        self.write_values([decision_values(decision)])

    def write_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Write rows given by column name, as :func:`decision_row` makes them."""
        self.write_values([[row[c] for c in DECISION_COLUMNS] for row in rows])

    def write_values(self, rows: Sequence[list[Any]]) -> None:
        """Write rows given as :func:`decision_values` makes them, in one transaction."""
        if not rows:
            return
        try:
            with self.engine.begin() as conn:
                self._insert.execute(conn, rows)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc).splitlines()[0], backend=self.engine.dialect.name, operation="audit insert") from exc

    def recent(self, limit: int = 100, *, account_sid: str | None = None, call_sid: str | None = None) -> list[AuditRecord]:
        """The newest rows first."""
        query = select(decisions).order_by(decisions.c.id.desc()).limit(limit)
        if account_sid is not None:
            query = query.where(decisions.c.account_sid == account_sid)
        if call_sid is not None:
            query = query.where(decisions.c.call_sid == call_sid)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_record(row) for row in rows]

    def query(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        number: str | None = None,
        account_sid: str | None = None,
        reason: str | None = None,
        action: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[AuditRecord]:
        """Decisions, newest first, filtered; ``before_id`` pages backwards."""
        query = select(decisions).order_by(decisions.c.id.desc()).limit(limit)
        if since is not None:
            query = query.where(decisions.c.decided_at >= utc_datetime(since))
        if until is not None:
            query = query.where(decisions.c.decided_at < utc_datetime(until))
        if number is not None:
            query = query.where(decisions.c.e164 == number)
        if account_sid is not None:
            query = query.where(decisions.c.account_sid == account_sid)
        if action is not None:
            query = query.where(decisions.c.action == action)
        if before_id is not None:
            query = query.where(decisions.c.id < before_id)
        if reason is not None:
            # reasons is a comma-separated list: match whole codes only.
            column = decisions.c.reasons
            query = query.where(
                or_(column == reason, column.like(f"{reason},%"), column.like(f"%,{reason}"), column.like(f"%,{reason},%"))
            )
        with connection(self.engine, "audit query") as conn:
            return [_record(row) for row in conn.execute(query).mappings()]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(decisions)).scalar_one())

    def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc).splitlines()[0], backend=self.engine.dialect.name, operation="ping") from exc


def _epoch_stamps(process: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """What the writer binds for a timestamp column given epoch seconds (or an aware datetime):
    the dialect's bind processor of the UTC datetime, or the datetime itself where there is none.

    SQLite's processor writes ``YYYY-MM-DD HH:MM:SS.ffffff`` with Python's ``%`` formatting, and
    making the datetime costs as much again; every decision is a row, and the rows of a batch
    fall in a second or two. There (where a probe shows the text ends in the microseconds) the
    text is made from the epoch seconds: each second's text once, the microseconds rounded as
    ``datetime.fromtimestamp`` rounds them (half to even, carrying into the next second)."""

    def general(value: Any) -> Any:
        if value.__class__ is not datetime:
            value = utc_datetime(value)
        return process(value) if process is not None else value

    probe = datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=timezone.utc)
    text = general(probe)
    if not isinstance(text, str) or not text.endswith(".789012") or general(probe.replace(microsecond=0)) != text[:-6] + "000000":
        return general
    last: list[tuple[float, str] | None] = [None]  # a whole second, and its text up to the microseconds

    def from_epoch(value: Any) -> Any:
        if value.__class__ is not float:  # what decision_values() gives; datetimes, ints: the long way
            return general(value)
        fraction, second = modf(value)
        micro = round(fraction * 1e6)  # as CPython's fromtimestamp: the fraction scaled, then half-even
        if micro >= 1_000_000:
            micro -= 1_000_000
            second += 1.0
        elif micro < 0:  # before 1970 the fraction is negative
            micro += 1_000_000
            second -= 1.0
        seen = last[0]  # one read: another thread may be writing rows too
        if seen is None or seen[0] != second:
            seen = last[0] = (second, general(second)[:-6])
        return f"{seen[1]}{micro:06d}"

    return from_epoch


class _DriverInsert:
    """The audit INSERT compiled once per dialect and set of columns, run by the driver's executemany.

    Every decision is a row, written by a background thread of each worker: SQLAlchemy's
    per-row parameter handling would cost that thread about a third of each row's time. The
    dialect's own bind processors convert each value (SQLite's ``DATETIME`` writes SQLAlchemy's
    storage format, not the driver's ``isoformat``), so rows are stored exactly as an
    ``insert(decisions)`` stores them. A row binds only its non-NULL columns (the others are
    NULL by omission, as no column has a default): sqlite3 adapts every ``None`` it binds through
    its adapter registry, about a microsecond each, and a typical row has several. Consecutive
    rows with the same columns, the usual case, go in one executemany, in order.
    """

    def __init__(self, engine: Engine, columns: Sequence[str]) -> None:
        self.dialect = engine.dialect
        self.columns = tuple(columns)
        processors: list[tuple[int, Callable[[Any], Any]]] = []
        for i, column in enumerate(self.columns):
            type_ = decisions.c[column].type
            process = type_.dialect_impl(self.dialect).bind_processor(self.dialect)
            if type_.python_type is datetime:  # given epoch seconds, whether or not the dialect converts
                process = _epoch_stamps(process)
            if process is not None:
                processors.append((i, process))
        self.processors = tuple(processors)
        self._nones = (None,) * len(self.columns)
        self._statements: dict[tuple[bool, ...], tuple[str, Callable[[list[tuple[Any, ...]]], Any]]] = {}

    def statement(self, present: tuple[bool, ...]) -> tuple[str, Callable[[list[tuple[Any, ...]]], Any]]:
        """The INSERT of the columns flagged in ``present``, and what turns rows of their values
        (in column order) into the driver's parameters, worked out once per set of columns."""
        found = self._statements.get(present)
        if found is None:
            names = tuple(compress(self.columns, present))
            compiled = insert(decisions).compile(dialect=self.dialect, column_keys=list(names))
            positions = compiled.positiontup
            to_params: Callable[[list[tuple[Any, ...]]], Any]
            if positions is None:  # named parameters (psycopg)
                to_params = lambda rows: [dict(zip(names, row)) for row in rows]  # noqa: E731
            elif (order := tuple(names.index(name) for name in positions)) == tuple(range(len(names))):
                to_params = lambda rows: rows  # noqa: E731  (sqlite3: already in the statement's order)
            else:
                to_params = lambda rows: [tuple(row[i] for i in order) for row in rows]  # noqa: E731
            found = self._statements[present] = (str(compiled), to_params)
        return found

    def execute(self, conn: Any, rows: Sequence[list[Any]]) -> None:
        """INSERT ``rows``, each a value per column (None for NULL), in order."""
        processors, nones = self.processors, self._nones
        runs: list[tuple[tuple[bool, ...], list[tuple[Any, ...]]]] = []
        last: tuple[bool, ...] | None = None
        for values in rows:
            values = list(values)  # the caller's row is left as it was
            for i, process in processors:
                if values[i] is not None:
                    values[i] = process(values[i])
            present = tuple(map(is_not, values, nones))
            bound = tuple(compress(values, present))
            if present == last:
                runs[-1][1].append(bound)
            else:
                runs.append((present, [bound]))
                last = present
        for present, bound_rows in runs:
            sql, to_params = self.statement(present)
            conn.exec_driver_sql(sql, to_params(bound_rows))


def _record(row: Any) -> AuditRecord:
    decided_at = row["decided_at"]
    if decided_at.tzinfo is None:  # SQLite hands back naive UTC
        decided_at = decided_at.replace(tzinfo=timezone.utc)
    return AuditRecord(
        id=row["id"],
        decided_at=decided_at.timestamp(),
        account_sid=row["account_sid"],
        call_sid=row["call_sid"],
        action=row["action"],
        reasons=tuple(r for r in row["reasons"].split(",") if r),
        sentence=row["sentence"],
        to_raw=row["to_raw"],
        from_raw=row["from_raw"],
        e164=row["e164"],
        caller_id=row["caller_id"],
        region=row["region"],
        risk=row["risk"],
        checks=tuple(c for c in (row["checks"] or "").split(",") if c),
        source=row["source"],
        fault=row["fault"],
        campaign=row["campaign"],
    )


@dataclass
class AuditStats:
    queued: int
    written: int
    dropped: int
    failed_batches: int
    last_error: str | None
    last_error_at: float | None


class BatchingAuditLog:
    """Queues decisions and writes them from a background thread in batches."""

    def __init__(
        self,
        log_: SqlAuditLog,
        *,
        flush_interval: float = 0.2,
        max_batch: int = 500,
        max_backlog: int = 100_000,
    ) -> None:
        self.sql = log_
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self.max_backlog = max_backlog
        self._reset()
        atexit.register(self.close)
        os.register_at_fork(after_in_child=self._after_fork)

    def _reset(self) -> None:
        self._queue: collections.deque[Decision] = collections.deque()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._written = 0
        self._dropped = 0
        self._failed_batches = 0
        self._last_error: str | None = None
        self._last_error_at: float | None = None

    def _after_fork(self) -> None:
        # The parent's queue belongs to the parent, and its pooled connections must not be
        # shared with the child.
        self._reset()
        self.sql.engine.dispose(close=False)

    def _ensure_thread(self) -> None:
        if self._thread is None or self._pid != os.getpid():
            with self._write_lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="callguard-audit", daemon=True)
                    self._thread.start()

    def record(self, decision: Decision) -> None:
        queue = self._queue
        queue.append(decision)  # deque.append is atomic: no lock on the request thread
        if self._thread is None:
            self._ensure_thread()
        if len(queue) > self.max_backlog:
            dropped = 0
            while len(queue) > self.max_backlog:
                try:
                    queue.popleft()
                except IndexError:
                    break
                dropped += 1
            self._dropped += dropped
            log.error("audit backlog over %d rows (database unavailable?): dropped %d oldest", self.max_backlog, dropped)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # keep the writer alive whatever happens; flush() logs
                log.exception("audit writer fault")

    def flush(self) -> int:
        """Write everything queued so far; returns rows written. Failed rows stay queued.

        Rows queued while it writes wait for the next flush: each commit writes every page the
        rows touch (the table's and four indexes') and syncs the WAL, so a commit of the few
        rows that arrived during the last one costs nearly what a full batch does."""
        written = 0
        with self._write_lock:
            pending = len(self._queue)
            while pending > 0 and self._queue:
                batch: list[Decision] = []
                size = min(pending, self.max_batch)
                while self._queue and len(batch) < size:
                    batch.append(self._queue.popleft())
                pending -= len(batch)
                try:
                    self._write(batch)
                except StoreUnavailable as exc:
                    self._queue.extendleft(reversed(batch))
                    self._failed_batches += 1
                    self._last_error, self._last_error_at = str(exc), time.time()
                    log.warning("audit write failed, %d rows kept for retry: %s", len(self._queue), exc)
                    break
                written += len(batch)
        self._written += written
        return written

    def _write(self, batch: list[Decision]) -> None:
        rows = [decision_values(d) for d in batch]
        try:
            self.sql.write_values(rows)
        except StoreUnavailable as exc:
            if not isinstance(exc.__cause__, DBAPIError) or exc.__cause__.connection_invalidated or _is_connectivity(exc.__cause__):
                raise
            # A row the database refuses (not an outage): write the rest one by one so one bad
            # row cannot block the log forever.
            for row in rows:
                try:
                    self.sql.write_values([row])
                except StoreUnavailable as row_exc:
                    if _is_connectivity(row_exc.__cause__):
                        raise
                    self._dropped += 1
                    log.error("audit row refused by the database and dropped: %s (%r)", row_exc, dict(zip(DECISION_COLUMNS, row)))

    def stats(self) -> AuditStats:
        return AuditStats(len(self._queue), self._written, self._dropped, self._failed_batches, self._last_error, self._last_error_at)

    def close(self) -> None:
        """Stop the writer and write what is left."""
        atexit.unregister(self.close)
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread() and self._pid == os.getpid():
            thread.join(timeout=5)
        try:
            while self._queue and self.flush():  # until nothing is left, or the database refuses
                pass
        except Exception:
            log.exception("audit flush at shutdown failed; %d rows lost", len(self._queue))


def _is_connectivity(exc: BaseException | None) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError))
