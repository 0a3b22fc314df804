"""Counters in a SQLite file: the embedded default, shared by every worker of one host.

The standard library's ``sqlite3`` is used directly: SQLAlchemy adds tens of microseconds per
statement, and a call's whole batch must stay under 150 µs. The file is separate from the
records database, in WAL mode with ``synchronous=NORMAL``: counters survive a crash or a
restart of the server (the WAL is on disk), but not a power cut's last moments, which for
rate windows is the right trade. Write batches take the lock at once (``BEGIN IMMEDIATE``),
so two workers never interleave a check and its increment. Old rows are pruned as keys are
touched, and the whole file now and then.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from typing import Any, Sequence

from ..errors import StoreUnavailable
from .counters import (
    Acquire,
    Admit,
    AdmitResult,
    CounterBackend,
    GetFlag,
    Hit,
    HitBelow,
    Index,
    Op,
    OutcomeStats,
    Peek,
    ReadIndex,
    ReadTallies,
    RecordOutcome,
    Release,
    SetFlag,
    Tally,
    Unhit,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (key TEXT NOT NULL, at REAL NOT NULL, member TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_key_at ON events (key, at);
CREATE TABLE IF NOT EXISTS gauge (key TEXT NOT NULL, member TEXT NOT NULL, expires REAL NOT NULL, PRIMARY KEY (key, member));
CREATE TABLE IF NOT EXISTS outcomes (key TEXT NOT NULL, at REAL NOT NULL, seq INTEGER PRIMARY KEY AUTOINCREMENT,
                                     answered INTEGER NOT NULL, duration REAL NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS outcomes_key_seq ON outcomes (key, seq);
CREATE TABLE IF NOT EXISTS flags (key TEXT PRIMARY KEY, until REAL NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tallies (key TEXT NOT NULL, bucket INTEGER NOT NULL, total INTEGER NOT NULL, expires REAL NOT NULL,
                                    PRIMARY KEY (key, bucket));
CREATE TABLE IF NOT EXISTS indexes (key TEXT NOT NULL, member TEXT NOT NULL, expires REAL NOT NULL, PRIMARY KEY (key, member));
"""

_WRITES = (Admit, HitBelow, Hit, Unhit, Acquire, Release, RecordOutcome, SetFlag, Tally, Index)
_PRUNE_EVERY = 5_000  # batches between full-file prunes


class SqliteCounters(CounterBackend):
    name = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        self._local = threading.local()
        self._batches = 0
        try:
            self._connection().executescript(_SCHEMA)  # create the schema once, up front
        except sqlite3.Error as exc:
            raise self._fail(exc, "open") from exc

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None, check_same_thread=True)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
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
        write = any(isinstance(op, _WRITES) for op in ops)
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
        if write:
            self._batches += 1
            if self._batches % _PRUNE_EVERY == 0:
                self.prune(now)
        return results

    def prune(self, now: float) -> None:
        """Delete everything expired (rows are otherwise pruned only as their keys are touched)."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        for table in ("gauge", "outcomes", "tallies", "indexes"):
            conn.execute(f"DELETE FROM {table} WHERE expires <= ?", (now,))
        conn.execute("DELETE FROM flags WHERE until <= ?", (now,))
        conn.execute("DELETE FROM events WHERE at <= ?", (now - 7 * 86_400,))  # no window is longer than a week
        conn.execute("COMMIT")

    def _op(self, conn: sqlite3.Connection, op: Op, now: float) -> Any:
        if isinstance(op, Admit):
            return self._admit(conn, op, now)
        if isinstance(op, HitBelow):
            conn.execute("DELETE FROM events WHERE key = ? AND at <= ?", (op.key, now - op.window))
            (count,) = conn.execute("SELECT COUNT(*) FROM events WHERE key = ?", (op.key,)).fetchone()
            if count >= op.limit:
                return False, count
            conn.execute("INSERT INTO events (key, at, member) VALUES (?, ?, ?)", (op.key, now, op.member))
            return True, count + 1
        if isinstance(op, Hit):
            conn.execute("DELETE FROM events WHERE key = ? AND at <= ?", (op.key, now - op.window))
            conn.execute("INSERT INTO events (key, at, member) VALUES (?, ?, ?)", (op.key, now, op.member))
            return conn.execute("SELECT COUNT(*) FROM events WHERE key = ?", (op.key,)).fetchone()[0]
        if isinstance(op, Peek):
            return conn.execute("SELECT COUNT(*) FROM events WHERE key = ? AND at > ?", (op.key, now - op.window)).fetchone()[0]
        if isinstance(op, Unhit):
            conn.execute("DELETE FROM events WHERE key = ? AND member = ?", (op.key, op.member))
            return None
        if isinstance(op, Acquire):
            conn.execute("DELETE FROM gauge WHERE key = ? AND expires <= ?", (op.key, now))
            (active,) = conn.execute("SELECT COUNT(*) FROM gauge WHERE key = ?", (op.key,)).fetchone()
            if conn.execute("SELECT 1 FROM gauge WHERE key = ? AND member = ?", (op.key, op.member)).fetchone():
                return True, active
            if active >= op.limit:
                return False, active
            conn.execute("INSERT INTO gauge (key, member, expires) VALUES (?, ?, ?)", (op.key, op.member, now + op.ttl))
            return True, active + 1
        if isinstance(op, Release):
            conn.execute("DELETE FROM gauge WHERE key = ? AND member = ?", (op.key, op.member))
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
        flags = []
        for key in op.flags:
            row = conn.execute("SELECT until, reason FROM flags WHERE key = ? AND until > ?", (key, now)).fetchone()
            flags.append((row[0], row[1]) if row else None)
        window_counts = []
        for key, window, limit in op.windows:
            conn.execute("DELETE FROM events WHERE key = ? AND at <= ?", (key, now - window))
            # Counting stops at the limit: whether it is reached is all that matters.
            (count,) = conn.execute("SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE key = ? LIMIT ?)", (key, limit)).fetchone()
            window_counts.append(count)
        gauge_counts = []
        present = []
        for key, _ttl, limit in op.gauges:
            conn.execute("DELETE FROM gauge WHERE key = ? AND expires <= ?", (key, now))
            already = conn.execute("SELECT 1 FROM gauge WHERE key = ? AND member = ?", (key, op.member)).fetchone() is not None
            (count,) = conn.execute("SELECT COUNT(*) FROM (SELECT 1 FROM gauge WHERE key = ? LIMIT ?)", (key, limit)).fetchone()
            gauge_counts.append(count)
            present.append(already)
        admitted = (
            all(f is None for f in flags)
            and all(c < w[2] for c, w in zip(window_counts, op.windows))
            and all(p or c < g[2] for p, c, g in zip(present, gauge_counts, op.gauges))
        )
        if admitted:
            conn.executemany("INSERT INTO events (key, at, member) VALUES (?, ?, ?)", [(key, now, op.member) for key, _, _ in op.windows])
            conn.executemany(
                "INSERT OR IGNORE INTO gauge (key, member, expires) VALUES (?, ?, ?)", [(key, op.member, now + ttl) for key, ttl, _ in op.gauges]
            )
        return AdmitResult(admitted, tuple(window_counts), tuple(gauge_counts), tuple(flags))

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local = threading.local()


def new_member() -> str:
    return uuid.uuid4().hex
