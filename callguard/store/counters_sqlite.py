"""Counters in a SQLite file: the embedded default, shared by every worker of one host.

The standard library's ``sqlite3`` is used directly: SQLAlchemy adds tens of microseconds per
statement, and a call's whole batch must stay under 150 µs. The file is separate from the
records database, in WAL mode with ``synchronous=NORMAL``: counters survive a crash or a
restart of the server (the WAL is on disk), but not a power cut's last moments, which for
rate windows is the right trade. Write batches take the lock at once (``BEGIN IMMEDIATE``),
so two workers never interleave a check and its increment.

Two chores stay off the calls' path, on a background thread of each process: WAL checkpoints
(the one step that fsyncs; run inline by SQLite, one call in a few hundred would wait
milliseconds for it) and pruning rows whose keys are no longer touched (expired windows are
otherwise dropped as their keys are used). Either may run in any process; both are idempotent.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from typing import Any, Sequence

from ..errors import StoreUnavailable
from .counters import (
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

log = logging.getLogger("callguard.store")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (key TEXT NOT NULL, at REAL NOT NULL, member TEXT NOT NULL,
                                   PRIMARY KEY (key, at, member)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gauge (key TEXT NOT NULL, member TEXT NOT NULL, expires REAL NOT NULL,
                                  PRIMARY KEY (key, member)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counts (key TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outcomes (key TEXT NOT NULL, at REAL NOT NULL, seq INTEGER PRIMARY KEY AUTOINCREMENT,
                                     answered INTEGER NOT NULL, duration REAL NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS outcomes_key_seq ON outcomes (key, seq);
CREATE TABLE IF NOT EXISTS flags (key TEXT PRIMARY KEY, until REAL NOT NULL, reason TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tallies (key TEXT NOT NULL, bucket INTEGER NOT NULL, total INTEGER NOT NULL, expires REAL NOT NULL,
                                    PRIMARY KEY (key, bucket)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS indexes (key TEXT NOT NULL, member TEXT NOT NULL, expires REAL NOT NULL,
                                    PRIMARY KEY (key, member)) WITHOUT ROWID;
"""

_READS = (OutcomeStats, GetFlag, ReadTallies, ReadIndex)
_SCHEMA_VERSION = 2  # PRAGMA user_version; a file of another version is recreated (counters are soft state)
_CHECKPOINT_EVERY = 1.0  # seconds between background WAL checkpoints
_PRUNE_EVERY = 60.0  # seconds between background prunes
# The fallback should the background thread not run: SQLite checkpoints inline past this many pages.
_AUTOCHECKPOINT_PAGES = 10_000
# The running count of rows a key has in ``events`` (prefix "e") or ``gauge`` (prefix "g"):
# counting a window's rows would cost as many steps as the window holds events. Each table is
# one b-tree (WITHOUT ROWID, no secondary index): a commit writes each page it dirtied to the
# WAL, so every b-tree a call touches costs it.
_EVENTS, _GAUGE = "e", "g"


class SqliteCounters(CounterBackend):
    name = "sqlite"

    def __init__(self, path: str, *, background: bool = True) -> None:
        self.path = os.path.abspath(path)
        self.background = background
        self._local = threading.local()
        self._last_now: float | None = None
        self._stop = threading.Event()
        self._chores: tuple[int, threading.Thread] | None = None  # (pid, thread)
        try:
            self._create_schema(self._connection())
        except sqlite3.Error as exc:
            raise self._fail(exc, "open") from exc

    @staticmethod
    def _create_schema(conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version not in (0, _SCHEMA_VERSION):
                tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
                for table in tables:
                    conn.execute(f'DROP TABLE "{table}"')
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None, check_same_thread=True)
        conn.execute("PRAGMA journal_mode=WAL")
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
        return local.conn  # type: ignore[no-any-return]

    def _fail(self, exc: Exception, operation: str) -> StoreUnavailable:
        self._local.pid = None  # reconnect next time
        return StoreUnavailable(str(exc), backend="sqlite", operation=operation)

    def ping(self) -> None:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise self._fail(exc, "ping") from exc

    def run(self, ops: Sequence[Op], now: float) -> list[Any]:
        try:
            conn = self._connection()
        except sqlite3.Error as exc:
            raise self._fail(exc, "connect") from exc
        write = not all(isinstance(op, _READS) for op in ops)
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                results = [self._op(conn, op, now) for op in ops]
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise self._fail(exc, "counters batch") from exc
        self._last_now = now
        if self.background and (self._chores is None or self._chores[0] != os.getpid()):
            self._start_chores()
        return results

    def _start_chores(self) -> None:
        thread = threading.Thread(target=self._run_chores, name="callguard-counters", daemon=True)
        self._chores = (os.getpid(), thread)
        thread.start()

    def _run_chores(self) -> None:
        pid = os.getpid()
        next_prune = time.monotonic() + _PRUNE_EVERY
        while not self._stop.wait(_CHECKPOINT_EVERY) and os.getpid() == pid:
            try:
                self.checkpoint()
                if time.monotonic() >= next_prune and self._last_now is not None:
                    next_prune = time.monotonic() + _PRUNE_EVERY
                    self.prune(self._last_now)
            except sqlite3.Error as exc:  # the next round tries again; calls are unaffected
                log.warning("counters file %s: background chore failed: %s", self.path, exc)

    def checkpoint(self) -> tuple[int, int]:
        """Copy the WAL into the database file without blocking anyone (PASSIVE).

        Returns (frames in the WAL, frames now in the database file)."""
        _busy, frames, copied = self._connection().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(frames), int(copied)

    def prune(self, now: float) -> None:
        """Delete everything expired, keeping the running counts exact."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            deltas: dict[str, int] = {}
            for prefix, statement, bound in (
                (_EVENTS, "DELETE FROM events WHERE at <= ? RETURNING key", now - MAX_WINDOW),
                (_GAUGE, "DELETE FROM gauge WHERE expires <= ? RETURNING key", now),
            ):
                for (key,) in conn.execute(statement, (bound,)).fetchall():
                    deltas[prefix + key] = deltas.get(prefix + key, 0) - 1
            self._add(conn, deltas)
            conn.execute("DELETE FROM counts WHERE n <= 0")
            for table in ("outcomes", "tallies", "indexes"):
                conn.execute(f"DELETE FROM {table} WHERE expires <= ?", (now,))
            conn.execute("DELETE FROM flags WHERE until <= ?", (now,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # -- running counts ---------------------------------------------------------------------

    @staticmethod
    def _counts(conn: sqlite3.Connection, keys: Sequence[str]) -> dict[str, int]:
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        return dict(conn.execute(f"SELECT key, n FROM counts WHERE key IN ({marks})", tuple(keys)).fetchall())

    @staticmethod
    def _add(conn: sqlite3.Connection, deltas: dict[str, int]) -> None:
        changes = [(key, delta) for key, delta in deltas.items() if delta]
        if changes:
            values = ",".join(["(?, ?)"] * len(changes))
            conn.execute(
                f"INSERT INTO counts (key, n) VALUES {values} ON CONFLICT (key) DO UPDATE SET n = n + excluded.n",
                tuple(x for change in changes for x in change),
            )

    def _expire_gauge(self, conn: sqlite3.Connection, key: str, now: float) -> int:
        # Reads the key's members (no index on expires): callers do it only when the gauge looks
        # full, where members whose end was never reported are what matters.
        gone = conn.execute("DELETE FROM gauge WHERE key = ? AND expires <= ?", (key, now)).rowcount
        self._add(conn, {_GAUGE + key: -gone})
        return gone

    # -- operations -------------------------------------------------------------------------

    def _op(self, conn: sqlite3.Connection, op: Op, now: float) -> Any:
        if isinstance(op, Admit):
            return self._admit(conn, op, now)
        if isinstance(op, Unhit):
            gone = conn.execute("DELETE FROM events WHERE key = ? AND at = ? AND member = ?", (op.key, op.at, op.event)).rowcount
            self._add(conn, {_EVENTS + op.key: -gone})
            return None
        if isinstance(op, Release):
            self._add(conn, {_GAUGE + op.key: -conn.execute("DELETE FROM gauge WHERE key = ? AND member = ?", (op.key, op.member)).rowcount})
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
            conn.execute("DELETE FROM counts WHERE key = ?", (_EVENTS + op.key,))
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
        # A handful of statements whatever the number of windows: each statement costs ~5 µs.
        flags: list[tuple[float, str] | None] = [None] * len(op.flags)
        if op.flags:
            marks = ",".join("?" * len(op.flags))
            found = {
                key: (until, reason)
                for key, until, reason in conn.execute(f"SELECT key, until, reason FROM flags WHERE key IN ({marks}) AND until > ?", (*op.flags, now))
            }
            flags = [found.get(key) for key in op.flags]
        deltas: dict[str, int] = {}
        if op.windows:
            where = " OR ".join(["(key = ? AND at <= ?)"] * len(op.windows))
            bounds = tuple(x for key, window, _ in op.windows for x in (key, now - window))
            for (key,) in conn.execute(f"DELETE FROM events WHERE {where} RETURNING key", bounds).fetchall():
                deltas[_EVENTS + key] = deltas.get(_EVENTS + key, 0) - 1
        counts = self._counts(conn, [_EVENTS + key for key, _, _ in op.windows] + [_GAUGE + key for key, _, _ in op.gauges])
        window_counts = [counts.get(_EVENTS + key, 0) + deltas.get(_EVENTS + key, 0) for key, _, _ in op.windows]
        gauge_counts, present = [], []
        for key, _ttl, limit in op.gauges:
            present.append(conn.execute("SELECT 1 FROM gauge WHERE key = ? AND member = ?", (key, op.member)).fetchone() is not None)
            count = counts.get(_GAUGE + key, 0)
            if count >= limit:
                count -= self._expire_gauge(conn, key, now)
            gauge_counts.append(count)
        admitted = (
            all(f is None for f in flags)
            and all(c < w[2] for c, w in zip(window_counts, op.windows))
            and all(p or c < g[2] for p, c, g in zip(present, gauge_counts, op.gauges))
        )
        if admitted:
            if op.windows:
                conn.execute(
                    "INSERT INTO events (key, at, member) VALUES " + ",".join(["(?, ?, ?)"] * len(op.windows)),
                    tuple(x for key, _, _ in op.windows for x in (key, now, op.event)),
                )
                for key, _, _ in op.windows:
                    deltas[_EVENTS + key] = deltas.get(_EVENTS + key, 0) + 1
            for (key, ttl, _), already in zip(op.gauges, present):
                conn.execute("INSERT OR REPLACE INTO gauge (key, member, expires) VALUES (?, ?, ?)", (key, op.member, now + ttl))
                if not already:
                    deltas[_GAUGE + key] = deltas.get(_GAUGE + key, 0) + 1
        self._add(conn, deltas)
        joined = tuple(admitted and not already for already in present)
        return AdmitResult(admitted, tuple(window_counts), tuple(gauge_counts), tuple(flags), joined)

    def close(self) -> None:
        self._stop.set()
        if self._chores is not None and self._chores[0] == os.getpid():
            self._chores[1].join(timeout=5)
        self._chores = None
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local = threading.local()
