"""Counters in a SQLite file: the embedded default, shared by every worker of one host.

The standard library's ``sqlite3`` is used directly: SQLAlchemy adds tens of microseconds per
statement, and a call's whole batch must stay under 150 µs. The file is separate from the
records database, in WAL mode with ``synchronous=NORMAL``: counters survive a crash or a
restart of the server (the WAL is on disk), but not a power cut's last moments, which for
rate windows is the right trade. Write batches take the lock at once (``BEGIN IMMEDIATE``),
so two workers never interleave a check and its increment.

Two chores stay off the calls' path, in :meth:`SqliteCounters.run_chores`, which the runtime
runs on a background worker of each process every :data:`CHORES_EVERY` seconds: WAL checkpoints
(the one step that fsyncs; run inline by SQLite, one call in a few hundred would wait
milliseconds for it) and pruning rows whose keys are no longer touched (expired windows are
otherwise dropped as their keys are used). Either may run in any process; both are idempotent.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import StoreUnavailable
from ..loggers import get_logger
from ..traffic.counters import (
    MAX_WINDOW,
    Admit,
    AdmitResult,
    ClearFlag,
    CounterBackend,
    GetFlag,
    Index,
    Op,
    OutcomeStats,
    ReadIndex,
    ReadTallies,
    RecordOutcome,
    Release,
    Reset,
    SetFlag,
    Tally,
    Unhit,
)

log = get_logger("callguard.store")

_T = TypeVar("_T")

# A window's or gauge's running count lives in its key's sentinel row, the one that sorts last
# among the key's events (``at`` = +inf) or first among its members (``member`` = ''). It shares a
# page with the rows a call writes anyway (new events go at the end of the key's range), so a
# commit writes no page just for the counting; counting a window's rows instead would cost a
# step per event it holds. Every statement that adds or removes an event or member adjusts the
# sentinel in the same transaction (the upserts below, or an UPDATE from a DELETE's RETURNING):
# a trigger would do the same at twice the cost of the insert it fires on.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (key TEXT NOT NULL, at REAL NOT NULL, member TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 0,
                                   PRIMARY KEY (key, at, member)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gauge (key TEXT NOT NULL, member TEXT NOT NULL, expires REAL NOT NULL, n INTEGER NOT NULL DEFAULT 0,
                                  PRIMARY KEY (key, member)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outcomes (key TEXT NOT NULL, at REAL NOT NULL, seq INTEGER PRIMARY KEY AUTOINCREMENT,
                                     answered INTEGER NOT NULL, duration REAL NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS outcomes_key_seq ON outcomes (key, seq);
CREATE TABLE IF NOT EXISTS flags (key TEXT PRIMARY KEY, until REAL NOT NULL, reason TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tallies (key TEXT NOT NULL, bucket INTEGER NOT NULL, total INTEGER NOT NULL, expires REAL NOT NULL,
                                    PRIMARY KEY (key, bucket)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS indexes (key TEXT NOT NULL, member TEXT NOT NULL, expires REAL NOT NULL,
                                    PRIMARY KEY (key, member)) WITHOUT ROWID;
"""

# Version 3 kept the counts in a table of their own; its events, gauges and counts move into
# version 4's layout in place, so an upgrade keeps every window, block and throttle.
_FROM_3 = """
DROP TRIGGER events_counted;
DROP TRIGGER events_uncounted;
DROP TRIGGER gauge_counted;
DROP TRIGGER gauge_uncounted;
ALTER TABLE events ADD COLUMN n INTEGER NOT NULL DEFAULT 0;
ALTER TABLE gauge ADD COLUMN n INTEGER NOT NULL DEFAULT 0;
INSERT INTO events (key, at, member, n) SELECT substr(key, 2), 9e999, '', n FROM counts WHERE key LIKE 'e%' AND n > 0;
INSERT INTO gauge (key, member, expires, n) SELECT substr(key, 2), '', 9e999, n FROM counts WHERE key LIKE 'g%' AND n > 0;
DROP TABLE counts;
"""

_READS = (OutcomeStats, GetFlag, ReadTallies, ReadIndex)
_SCHEMA_VERSION = 4  # PRAGMA user_version; a file of a version before 3 is recreated (counters are soft state)
CHORES_EVERY = 1.0  # seconds between rounds of the chores (a WAL checkpoint each)
_PRUNE_EVERY = 60.0  # seconds between prunes
# The fallback should no one run the chores: SQLite checkpoints inline past this many pages.
_AUTOCHECKPOINT_PAGES = 10_000
_EVENTS_GONE = "UPDATE events SET n = n - ? WHERE key = ? AND at = 9e999 AND member = ''"
_MEMBERS_GONE = "UPDATE gauge SET n = n - ? WHERE key = ? AND member = ''"
# A member already in has its expiry renewed, and the sentinel takes the change in count (0 then).
_JOIN_GAUGE = (
    "INSERT INTO gauge (key, member, expires, n) VALUES (?, ?, ?, 0), (?, '', 9e999, ?) "
    "ON CONFLICT (key, member) DO UPDATE SET expires = excluded.expires, n = n + excluded.n"
)


# Events that have left a window are subtracted from its count at once, but deleted only once
# this many have gathered (a DELETE costs a call several index seeks' worth).
_EXPIRE_BATCH = 16
_EXPIRE = "DELETE FROM events WHERE key = ? AND at <= ?"


@dataclass(frozen=True)
class _AdmitShape:
    """The SQL of an admission with this many flags, windows and gauges: built once, not per call."""

    read: str
    insert: str

    @classmethod
    @functools.lru_cache(maxsize=64)
    def of(cls, flags: int, windows: int, gauges: int) -> _AdmitShape:
        # One row of scalar subqueries, each one index seek: an IN list would build and sort a
        # temporary b-tree on every call. Per window: its count, and how many of those have left it.
        columns = ["(SELECT until FROM flags WHERE key = ? AND until > ?)"] * flags
        columns += [
            "(SELECT n FROM events WHERE key = ? AND at = 9e999 AND member = ''), (SELECT count(*) FROM events WHERE key = ? AND at <= ?)"
        ] * windows
        columns += [
            "(SELECT n FROM gauge WHERE key = ? AND member = ''), EXISTS (SELECT 1 FROM gauge WHERE key = ? AND member = ?)"
        ] * gauges
        # Each window's new event and its sentinel's change in count (+1, less what was deleted), in one statement.
        insert = (
            "INSERT INTO events (key, at, member, n) VALUES "
            + ",".join(["(?, ?, ?, 0), (?, 9e999, '', ?)"] * windows)
            + " ON CONFLICT (key, at, member) DO UPDATE SET n = n + excluded.n"
        )
        return cls("SELECT " + (", ".join(columns) or "NULL"), insert)


def _use_wal(conn: sqlite3.Connection, *, wait: float = 5.0) -> None:
    """Put the file in WAL mode (a setting the file keeps: only its first opener changes it).

    Switching needs the file to itself, and SQLite answers "database is locked" at once, without
    its busy handler, while another process holds it: workers opening a new file together
    retry for up to ``wait`` seconds.
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _execute_script(conn: sqlite3.Connection, script: str) -> None:
    """Each statement of ``script`` inside the caller's transaction (``executescript`` would commit it)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""


class SqliteCounters(CounterBackend):
    """The counters in a SQLite file. ``background``: :meth:`run_chores` runs in the background
    (SQLite's own inline checkpoints then wait for many more pages)."""

    name = "sqlite"

    def __init__(self, path: str, *, background: bool = True, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.path = os.path.abspath(path)
        self.background = background
        self.monotonic = monotonic
        self._local = threading.local()
        self._last_now: float | None = None
        self._next_prune = monotonic() + _PRUNE_EVERY
        try:
            self._create_schema(self._connection())
        except sqlite3.Error as exc:
            raise self._fail(exc, "open") from exc

    @staticmethod
    def _create_schema(conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version == 3:
                _execute_script(conn, _FROM_3)
            elif version not in (0, _SCHEMA_VERSION):
                tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
                for table in tables:
                    conn.execute(f'DROP TABLE "{table}"')
            _execute_script(conn, _SCHEMA)
            conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None, check_same_thread=True)
        _use_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        if self.background:
            conn.execute(f"PRAGMA wal_autocheckpoint={_AUTOCHECKPOINT_PAGES}")
        return conn

    def _connection(self) -> sqlite3.Connection:
        # One connection per thread, and per process: a connection must not cross a fork.
        local = self._local
        pid = os.getpid()
        if getattr(local, "pid", None) != pid:
            local.conn, local.pid = self._connect(), pid
        return local.conn

    def _fail(self, exc: Exception, operation: str) -> StoreUnavailable:
        self._local.pid = None  # reconnect next time
        return StoreUnavailable(str(exc), backend="sqlite", operation=operation)

    def ping(self) -> None:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise self._fail(exc, "ping") from exc

    def run(self, ops: Sequence[Op], now: float) -> list[Any]:
        write = not all(isinstance(op, _READS) for op in ops)
        return self._transaction(lambda conn: [self._op(conn, op, now) for op in ops], now, write=write)

    def admit(self, op: Admit, now: float) -> AdmitResult:
        # The call path: one admission in its own transaction, without run()'s general batch.
        return self._transaction(lambda conn: self._admit(conn, op, now), now, write=True)

    def _transaction(self, work: Callable[[sqlite3.Connection], _T], now: float, *, write: bool) -> _T:
        """``work`` in one transaction (``BEGIN IMMEDIATE`` when it writes: the lock is taken before the reads)."""
        try:
            conn = self._connection()
        except sqlite3.Error as exc:
            raise self._fail(exc, "connect") from exc
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                result = work(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise self._fail(exc, "counters batch") from exc
        self._last_now = now
        return result

    def run_chores(self) -> None:
        """One round of the chores: a WAL checkpoint and, every minute, a prune as of the last
        batch's time. Never raises for SQLite's errors: the next round tries again, and calls are
        unaffected."""
        try:
            self.checkpoint()
            if self.monotonic() >= self._next_prune and self._last_now is not None:
                self._next_prune = self.monotonic() + _PRUNE_EVERY
                self.prune(self._last_now)
        except sqlite3.Error as exc:
            log.warning("counters file %s: background chore failed: %s", self.path, exc)

    def checkpoint(self) -> tuple[int, int]:
        """Copy the WAL into the database file without blocking anyone (PASSIVE).

        Returns (frames in the WAL, frames now in the database file)."""
        _busy, frames, copied = self._connection().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(frames), int(copied)

    def prune(self, now: float) -> None:
        """Delete everything expired, keeping the counts exact."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            for table, gone, sql in (
                ("events", _EVENTS_GONE, "DELETE FROM events WHERE at <= ? RETURNING key"),
                ("gauge", _MEMBERS_GONE, "DELETE FROM gauge WHERE expires <= ? RETURNING key"),
            ):
                counted: dict[str, int] = {}
                for (key,) in conn.execute(sql, (now - MAX_WINDOW if table == "events" else now,)).fetchall():
                    counted[key] = counted.get(key, 0) + 1
                conn.executemany(gone, [(n, key) for key, n in counted.items()])
            conn.execute("DELETE FROM events WHERE at = 9e999 AND n <= 0")  # the counts of keys left empty
            conn.execute("DELETE FROM gauge WHERE member = '' AND n <= 0")
            for table in ("outcomes", "tallies", "indexes"):
                conn.execute(f"DELETE FROM {table} WHERE expires <= ?", (now,))
            conn.execute("DELETE FROM flags WHERE until <= ?", (now,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # -- operations -------------------------------------------------------------------------

    def _op(self, conn: sqlite3.Connection, op: Op, now: float) -> Any:
        if type(op) is Admit:
            return self._admit(conn, op, now)
        if isinstance(op, Unhit):
            if conn.execute("DELETE FROM events WHERE key = ? AND at = ? AND member = ?", (op.key, op.at, op.event)).rowcount:
                conn.execute(_EVENTS_GONE, (1, op.key))
            return None
        if isinstance(op, Release):
            # '' is the gauge's count, not a member
            if op.member and conn.execute("DELETE FROM gauge WHERE key = ? AND member = ?", (op.key, op.member)).rowcount:
                conn.execute(_MEMBERS_GONE, (1, op.key))
            return None
        if isinstance(op, RecordOutcome):
            conn.execute(
                "INSERT INTO outcomes (key, at, answered, duration, expires) VALUES (?, ?, ?, ?, ?)",
                (op.key, now, int(op.answered), op.duration, now + op.ttl),
            )
            conn.execute(
                "DELETE FROM outcomes WHERE key = ? AND seq <= (SELECT seq FROM outcomes WHERE key = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                (op.key, op.key, op.keep),
            )
            return None
        if isinstance(op, OutcomeStats):
            row = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(answered), 0), COALESCE(SUM(CASE WHEN answered THEN duration ELSE 0 END), 0) "
                "FROM (SELECT answered, duration FROM outcomes WHERE key = ? AND at > ? ORDER BY seq DESC LIMIT ?)",
                (op.key, now - op.window, op.last),
            ).fetchone()
            return int(row[0]), int(row[1]), float(row[2])
        if isinstance(op, SetFlag):
            conn.execute("INSERT OR REPLACE INTO flags (key, until, reason) VALUES (?, ?, ?)", (op.key, op.until, op.reason))
            return None
        if isinstance(op, GetFlag):
            row = conn.execute("SELECT until, reason FROM flags WHERE key = ? AND until > ?", (op.key, now)).fetchone()
            return (row[0], row[1]) if row else None
        if isinstance(op, ClearFlag):
            return conn.execute("DELETE FROM flags WHERE key = ? AND until > ?", (op.key, now)).rowcount > 0
        if isinstance(op, Reset):
            conn.execute("DELETE FROM events WHERE key = ?", (op.key,))
            conn.execute("DELETE FROM outcomes WHERE key = ?", (op.key,))
            return None
        if isinstance(op, Tally):
            conn.execute(
                "INSERT INTO tallies (key, bucket, total, expires) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (key, bucket) DO UPDATE SET total = total + excluded.total, expires = excluded.expires",
                (op.key, op.bucket, op.amount, now + op.ttl),
            )
            return conn.execute("SELECT total FROM tallies WHERE key = ? AND bucket = ?", (op.key, op.bucket)).fetchone()[0]
        if isinstance(op, ReadTallies):
            if not op.buckets:
                return {}
            marks = ",".join("?" * len(op.buckets))
            rows = conn.execute(
                f"SELECT bucket, total FROM tallies WHERE key = ? AND bucket IN ({marks}) AND expires > ?", (op.key, *op.buckets, now)
            ).fetchall()
            return {int(b): int(t) for b, t in rows}
        if isinstance(op, Index):
            conn.execute("INSERT OR REPLACE INTO indexes (key, member, expires) VALUES (?, ?, ?)", (op.key, op.member, now + op.ttl))
            return None
        if isinstance(op, ReadIndex):
            return sorted(r[0] for r in conn.execute("SELECT member FROM indexes WHERE key = ? AND expires > ?", (op.key, now)))
        raise TypeError(f"unknown counter operation {op!r}")

    def _admit(self, conn: sqlite3.Connection, op: Admit, now: float) -> AdmitResult:
        windows, gauges, flag_keys = op.windows, op.gauges, op.flags
        shape = _AdmitShape.of(len(flag_keys), len(windows), len(gauges))
        args: list[Any] = []
        for key in flag_keys:
            args += (key, now)
        for key, window, _ in windows:
            args += (key, key, now - window)
        for key, _, _ in gauges:
            args += (key, key, op.member)
        row = conn.execute(shape.read, args).fetchone()
        nf, nw = len(flag_keys), len(windows)
        flags: tuple[tuple[float, str] | None, ...] = (None,) * nf
        admitted = True
        if nf and any(until is not None for until in row[:nf]):
            admitted = False  # rare: the reasons are read only when some flag is in force
            reasons = dict(conn.execute(f"SELECT key, reason FROM flags WHERE key IN ({','.join('?' * nf)})", flag_keys).fetchall())
            flags = tuple(None if until is None else (until, reasons[key]) for key, until in zip(flag_keys, row[:nf], strict=True))
        window_counts: list[int] = []
        deleted: dict[str, int] = {}  # per window, the events that left it and are deleted now
        for i, (key, window, limit) in enumerate(windows):
            count, gone = row[nf + 2 * i], row[nf + 2 * i + 1]
            count = (count or 0) - gone
            if count >= limit:
                admitted = False
            if gone >= _EXPIRE_BATCH:
                conn.execute(_EXPIRE, (key, now - window))
                deleted[key] = gone
            window_counts.append(count)
        at, end = nf + 2 * nw, nf + 2 * nw + 2 * len(gauges)  # the gauges' columns (a row of no column is SELECT NULL)
        gauge_counts: list[int] = []
        present: list[bool] = []
        left: list[int] = []  # per gauge, the members dropped as expired
        for (key, _, limit), count, already in zip(gauges, row[at:end:2], row[at + 1 : end : 2], strict=True):
            count, already, gone = count or 0, bool(already), 0
            if count >= limit:
                # Members whose end was never reported matter only once the gauge looks full; this
                # reads the key's members (there is no index on expires).
                dropped = [m for (m,) in conn.execute("DELETE FROM gauge WHERE key = ? AND expires <= ? RETURNING member", (key, now))]
                gone = len(dropped)
                count -= gone
                already = already and op.member not in dropped
                if count >= limit and not already:
                    admitted = False
            gauge_counts.append(count)
            present.append(already)
            left.append(gone)
        recorded = admitted and op.record
        if recorded:
            if windows:
                insert: list[Any] = []
                for key, _, _ in windows:
                    insert += (key, now, op.event, key, 1 - deleted.get(key, 0))
                conn.execute(shape.insert, insert)
            for (key, ttl, _), already, gone in zip(gauges, present, left, strict=True):  # a member already in is not counted again
                conn.execute(_JOIN_GAUGE, (key, op.member, now + ttl, key, (0 if already else 1) - gone))
        else:  # refused, or a what-if: only what expired is accounted for
            if deleted:
                conn.executemany(_EVENTS_GONE, [(n, key) for key, n in deleted.items()])
            for (key, _, _), gone in zip(gauges, left, strict=True):
                if gone:
                    conn.execute(_MEMBERS_GONE, (gone, key))
        joined = tuple(recorded and not already for already in present)
        return AdmitResult(admitted, tuple(window_counts), tuple(gauge_counts), flags, joined)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local = threading.local()
