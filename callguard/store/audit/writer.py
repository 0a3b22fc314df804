"""The batching audit writer: what a web worker records decisions into.

:meth:`BatchingAuditLog.record` only appends to an in-memory queue (no I/O on the request's
thread); :meth:`~BatchingAuditLog.flush` writes the queue in batches. The runtime runs the flush
on a background worker every ``flush_interval`` seconds and :meth:`~BatchingAuditLog.close` when
the worker stops (:mod:`callguard.runtime.assemble`). If the database is down the rows wait in
the queue (bounded by ``max_backlog``; beyond it the oldest are dropped, counted and logged) and
are written when it comes back.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from ...decision import Decision
from ...errors import StoreUnavailable
from ...loggers import get_logger
from .log import SqlAuditLog
from .rows import DECISION_COLUMNS, decision_values

log = get_logger("callguard.audit")


@dataclass
class AuditStats:
    queued: int
    written: int
    dropped: int
    failed_batches: int
    last_error: str | None
    last_error_at: float | None


class BatchingAuditLog:
    """Queues decisions; :meth:`flush` writes them in batches."""

    def __init__(
        self,
        log_: SqlAuditLog,
        *,
        flush_interval: float = 0.2,
        max_batch: int = 500,
        max_backlog: int = 100_000,
    ) -> None:
        self.sql = log_
        self.flush_interval = flush_interval  # how often the runtime's worker flushes
        self.max_batch = max_batch
        self.max_backlog = max_backlog
        self._reset()

    def _reset(self) -> None:
        self._queue: collections.deque[Decision] = collections.deque()
        self._write_lock = threading.Lock()
        self._written = 0
        self._dropped = 0
        self._failed_batches = 0
        self._last_error: str | None = None
        self._last_error_at: float | None = None

    def after_fork(self) -> None:
        """In a forked child: the parent's queue belongs to the parent, and its pooled
        connections must not be shared with the child."""
        self._reset()
        self.sql.engine.dispose(close=False)

    def record(self, decision: Decision) -> None:
        queue = self._queue
        queue.append(decision)  # deque.append is atomic: no lock on the request thread
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
                    log.error(
                        "audit row refused by the database and dropped: %s (%r)", row_exc, dict(zip(DECISION_COLUMNS, row, strict=True))
                    )

    def stats(self) -> AuditStats:
        return AuditStats(len(self._queue), self._written, self._dropped, self._failed_batches, self._last_error, self._last_error_at)

    def close(self) -> None:
        """Write what is left (the final step when the runtime stops the writer)."""
        try:
            while self._queue and self.flush():  # until nothing is left, or the database refuses
                pass
        except Exception:
            log.exception("audit flush at shutdown failed; %d rows lost", len(self._queue))


def _is_connectivity(exc: BaseException | None) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError))
