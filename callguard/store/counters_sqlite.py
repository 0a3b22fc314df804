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

import functools
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
CREATE TRIGGER IF NOT EXISTS events_counted AFTER INSERT ON events
  BEGIN INSERT INTO counts (key, n) VALUES ('e' || NEW.key, 1) ON CONFLICT (key) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER IF NOT EXISTS events_uncounted AFTER DELETE ON events
  BEGIN UPDATE counts SET n = n - 1 WHERE key = 'e' || OLD.key; END;
CREATE TRIGGER IF NOT EXISTS gauge_counted AFTER INSERT ON gauge
  BEGIN INSERT INTO counts (key, n) VALUES ('g' || NEW.key, 1) ON CONFLICT (key) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER IF NOT EXISTS gauge_uncounted AFTER DELETE ON gauge
  BEGIN UPDATE counts SET n = n - 1 WHERE key = 'g' || OLD.key; END;
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
_SCHEMA_VERSION = 3  # PRAGMA user_version; a file of another version is recreated (counters are soft state)
_CHECKPOINT_EVERY = 1.0  # seconds between background WAL checkpoints
_PRUNE_EVERY = 60.0  # seconds between background prunes
# The fallback should the background thread not run: SQLite checkpoints inline past this many pages.
_AUTOCHECKPOINT_PAGES = 10_000
# ``counts`` holds how many rows each key has in ``events`` (key "e" + key) and in ``gauge``
# ("g" + key), kept by the triggers above inside every change's own statement: counting a
# window's rows would cost as many steps as the window holds events. Each table is one b-tree
# (WITHOUT ROWID, no secondary index), because a commit writes every page it dirtied to the WAL,
# and each statement from Python costs more than the SQL it runs: an admission is four.
_EVENTS, _GAUGE = "e", "g"


_JOIN_GAUGE = "INSERT INTO gauge (key, member, expires) VALUES (?, ?, ?) ON CONFLICT (key, member) DO UPDATE SET expires = excluded.expires"


@functools.lru_cache(maxsize=64)
def _admit_statements(flags: int, windows: int, gauges: int) -> tuple[str, str, str]:
    """(expire, read, insert) for an admission of this shape: built once, not per call."""
    expire = "DELETE FROM events WHERE " + " OR ".join(["(key = ? AND at <= ?)"] * windows)
    parts = []
    if flags:
        parts.append(f"SELECT 0, key, until, reason FROM flags WHERE key IN ({','.join('?' * flags)}) AND until > ?")
    if windows + gauges:
        parts.append(f"SELECT 1, key, n, NULL FROM counts WHERE key IN ({','.join('?' * (windows + gauges))})")
    parts += ["SELECT 2, key, 1, NULL FROM gauge WHERE key = ? AND member = ?"] * gauges
    insert = "INSERT INTO events (key, at, member) VALUES " + ",".join(["(?, ?, ?)"] * windows)
    return expire, " UNION ALL ".join(parts), insert


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
            statement = ""
            for line in _SCHEMA.splitlines(keepends=True):  # a trigger's body has semicolons of its own
                statement += line
                if sqlite3.complete_statement(statement):
                    conn.execute(statement)
                    statement = ""
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
        """Delete everything expired (the triggers keep the counts exact)."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM events WHERE at <= ?", (now - MAX_WINDOW,))
            conn.execute("DELETE FROM gauge WHERE expires <= ?", (now,))
            conn.execute("DELETE FROM counts WHERE n <= 0")
            for table in ("outcomes", "tallies", "indexes"):
                conn.execute(f"DELETE FROM {table} WHERE expires <= ?", (now,))
            conn.execute("DELETE FROM flags WHERE until <= ?", (now,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # -- operations -------------------------------------------------------------------------

    def _op(self, conn: sqlite3.Connection, op: Op, now: float) -> Any:
        if isinstance(op, Admit):
            return self._admit(conn, op, now)
        if isinstance(op, Unhit):
            conn.execute("DELETE FROM events WHERE key = ? AND at = ? AND member = ?", (op.key, op.at, op.event))
            return None
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
        expire, read, insert = _admit_statements(len(op.flags), len(op.windows), len(op.gauges))
        if op.windows:  # what has left each window goes first, so the counts read next are the windows'
            conn.execute(expire, [x for key, window, _ in op.windows for x in (key, now - window)])
        # One read for every flag, count and gauge membership the admission depends on.
        args: list[Any] = [*op.flags, now] if op.flags else []
        args += [_EVENTS + key for key, _, _ in op.windows] + [_GAUGE + key for key, _, _ in op.gauges]
        for key, _, _ in op.gauges:
            args += [key, op.member]
        found: dict[str, tuple[float, str]] = {}
        counts: dict[str, int] = {}
        members: set[str] = set()
        if read:
            for kind, key, value, reason in conn.execute(read, args).fetchall():
                if kind == 0:
                    found[key] = (value, reason)
                elif kind == 1:
                    counts[key] = int(value)
                else:
                    members.add(key)
        flags = tuple(found.get(key) for key in op.flags)
        window_counts = tuple(counts.get(_EVENTS + key, 0) for key, _, _ in op.windows)
        present = [key in members for key, _, _ in op.gauges]
        gauge_counts = []
        for key, _ttl, limit in op.gauges:
            count = counts.get(_GAUGE + key, 0)
            if count >= limit:
                # Members whose end was never reported matter only once the gauge looks full; this
                # reads the key's members (there is no index on expires).
                count -= conn.execute("DELETE FROM gauge WHERE key = ? AND expires <= ?", (key, now)).rowcount
            gauge_counts.append(count)
        admitted = (
            all(f is None for f in flags)
            and all(c < w[2] for c, w in zip(window_counts, op.windows))
            and all(p or c < g[2] for p, c, g in zip(present, gauge_counts, op.gauges))
        )
        if admitted:
            if op.windows:
                conn.execute(insert, [x for key, _, _ in op.windows for x in (key, now, op.event)])
            for key, ttl, _ in op.gauges:  # a member already in is updated, not counted again
                conn.execute(_JOIN_GAUGE, (key, op.member, now + ttl))
        joined = tuple(admitted and not already for already in present)
        return AdmitResult(admitted, window_counts, tuple(gauge_counts), flags, joined)

    def close(self) -> None:
        self._stop.set()
        if self._chores is not None and self._chores[0] == os.getpid():
            self._chores[1].join(timeout=5)
        self._chores = None
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local = threading.local()
