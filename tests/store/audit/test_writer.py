"""The batching audit writer, on SQLite and on PostgreSQL (callguard.store.audit.writer)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from callguard import DialRequest, Guard
from callguard.errors import StoreUnavailable
from callguard.policy import Policy
from callguard.store import BatchingAuditLog, SqlAuditLog, create_database_engine, ensure_schema

from ...conftest import MAIN


def test_the_batching_writer_writes_everything_it_was_given(audit_sql: SqlAuditLog, policy: Policy) -> None:
    batching = BatchingAuditLog(audit_sql, flush_interval=60, max_batch=7)
    guard = Guard(policy, audit=batching)
    threads = [
        threading.Thread(target=lambda n=n: [guard.check(DialRequest(MAIN, f"+1415555{n:02d}{i:02d}", "+14155550100")) for i in range(25)])
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    batching.close()
    assert audit_sql.count() == 100
    stats = batching.stats()
    assert (stats.written, stats.queued, stats.dropped) == (100, 0, 0)


def test_rows_queued_during_a_write_wait_for_the_next_flush(audit_sql: SqlAuditLog, policy: Policy) -> None:
    """A flush writes what was queued when it began, in batches, and no more: a commit of the few
    rows that arrived meanwhile would cost nearly what a full batch does."""
    batching = BatchingAuditLog(audit_sql, flush_interval=60, max_batch=4)
    guard = Guard(policy, audit=batching)
    commits: list[int] = []
    write_values = audit_sql.write_values

    def write_while_calls_arrive(rows: list[list[object]]) -> None:
        commits.append(len(rows))
        write_values(rows)
        if len(commits) <= 4:  # a call arrives during each of the first four writes
            guard.check(DialRequest(MAIN, "+14155550199", "+14155550100", call_sid=f"CA-during-{len(commits)}"))

    audit_sql.write_values = write_while_calls_arrive  # type: ignore[method-assign]
    for i in range(10):
        guard.check(DialRequest(MAIN, f"+141555501{i:02d}", "+14155550100"))
    assert batching.flush() == 10 and commits == [4, 4, 2]
    assert batching.stats().queued == 3 and audit_sql.count() == 10
    assert batching.flush() == 3 and commits == [4, 4, 2, 3]
    batching.close()  # and closing writes all that is left
    assert commits == [4, 4, 2, 3, 1] and batching.stats().queued == 0 and audit_sql.count() == 14


def test_rows_wait_while_the_database_is_down_and_are_written_when_it_is_back(
    tmp_path: Path, policy: Policy, sqlite_url: str
) -> None:
    down = SqlAuditLog(create_database_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'audit.db'}"))
    with pytest.raises(StoreUnavailable):
        down.ping()
    batching = BatchingAuditLog(down, flush_interval=60)
    guard = Guard(policy, audit=batching)
    for i in range(5):
        guard.check(DialRequest(MAIN, f"+141555501{i:02d}", "+14155550100"))
    assert batching.flush() == 0
    stats = batching.stats()
    assert stats.queued == 5 and stats.failed_batches == 1 and stats.last_error

    up_engine = create_database_engine(sqlite_url)
    ensure_schema(up_engine)
    batching.sql = SqlAuditLog(up_engine)  # the database is back
    assert batching.flush() == 5
    assert batching.sql.count() == 5
    batching.close()
    up_engine.dispose()


def test_the_backlog_is_bounded_and_keeps_the_newest(tmp_path: Path, policy: Policy, sqlite_url: str) -> None:
    down = SqlAuditLog(create_database_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'audit.db'}"))
    batching = BatchingAuditLog(down, flush_interval=60, max_backlog=10)
    guard = Guard(policy, audit=batching)
    for i in range(25):
        guard.check(DialRequest(MAIN, f"+141555501{i:02d}", "+14155550100", call_sid=f"CA{i:02d}"))
    stats = batching.stats()
    assert stats.queued == 10 and stats.dropped == 15
    up_engine = create_database_engine(sqlite_url)
    ensure_schema(up_engine)
    batching.sql = SqlAuditLog(up_engine)
    batching.close()
    assert sorted(r.call_sid for r in batching.sql.recent(100)) == [f"CA{i:02d}" for i in range(15, 25)]
    up_engine.dispose()


def test_a_forked_child_leaves_the_parents_rows_to_the_parent(audit_sql: SqlAuditLog, policy: Policy) -> None:
    """What the writer does in a child of fork (the runtime's worker calls it there): the queue
    it inherited is the parent's to write, so the child writes none of it twice."""
    batching = BatchingAuditLog(audit_sql, flush_interval=60)
    guard = Guard(policy, audit=batching)
    for i in range(3):
        guard.check(DialRequest(MAIN, f"+141555501{i:02d}", "+14155550100"))
    batching.after_fork()
    assert batching.stats().queued == 0 and batching.flush() == 0 and audit_sql.count() == 0
    guard.check(DialRequest(MAIN, "+14155550199", "+14155550100"))  # the child's own decisions are written as usual
    batching.close()
    assert audit_sql.count() == 1
