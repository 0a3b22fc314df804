"""Pruning the audit log to its retention, on SQLite and on PostgreSQL (callguard.store.audit.pruning).

On PostgreSQL the months have partitions of their own (migration 0004): pruning drops the months
that have wholly expired and keeps the month the cut-off falls in. Rows no month takes land in the
default partition, where they are deleted in batches as on SQLite.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from callguard import DialRequest, FakeClock, Guard
from callguard.policy import Policy
from callguard.retention import parse_retention
from callguard.store import BatchingAuditLog, SqlAuditLog
from callguard.store.audit.partitions import Month, partitions
from callguard.store.audit.pruning import LEASE, AuditPruner
from callguard.store.changes import list_changes
from callguard.store.consents import ConsentStore
from callguard.store.leases import LeaseStore
from callguard.store.optouts import OptOutStore
from callguard.store.schema import decisions

from ...conftest import MAIN


def at(year: int, month: int, day: int) -> float:
    return datetime(year, month, day, 12, tzinfo=UTC).timestamp()


@pytest.fixture
def audit_sql(engine: Engine) -> SqlAuditLog:
    return SqlAuditLog(engine)


def decide(guard: Guard, clock: FakeClock, when: float, count: int, tag: str) -> None:
    """``count`` decisions made at ``when``, written by the audit log's own writer."""
    clock.set(when)
    for i in range(count):
        guard.check(DialRequest(MAIN, f"+1415555{i:04d}", "+14155550100", call_sid=f"CA-{tag}-{i}"))


def call_sids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(decisions.c.call_sid)).scalars())


def tags(engine: Engine) -> set[str]:
    return {sid.split("-")[1] for sid in call_sids(engine)}


def test_decisions_older_than_the_retention_go_and_the_rest_and_every_other_record_stay(
    engine: Engine, audit_sql: SqlAuditLog, policy: Policy
) -> None:
    clock = FakeClock(at(2026, 1, 10))
    guard = Guard(policy, clock=clock, audit=audit_sql)
    optouts, consents = OptOutStore(engine), ConsentStore(engine)
    optouts.add("+14155550123", MAIN, now=at(2020, 1, 1))  # years older than the retention: kept all the same
    consents.add("+14155550124", MAIN, kind="prior_express_written", obtained_at=at(2020, 1, 1), now=at(2020, 1, 1))
    keeper = AuditPruner(engine, None, clock=clock, holder="keeper")  # makes the months ahead, as the servers would
    for month, day in ((1, 10), (2, 10), (3, 10), (4, 10), (4, 20), (6, 10)):
        clock.set(at(2026, month, day))
        keeper.run(force=True)
        decide(guard, clock, at(2026, month, day), 4, f"{month:02d}{day:02d}")
    changes_before = len(list_changes(engine, limit=1000))

    clock.set(at(2026, 6, 15))  # 60 days: everything before 16 April has expired
    pauses: list[float] = []
    pruner = AuditPruner(engine, parse_retention("60d"), clock=clock, sleep=pauses.append, batch_rows=3, holder="pruner")
    report = pruner.run()
    assert report.cutoff == at(2026, 4, 16) and report.not_run is None and not report.more

    if engine.dialect.name == "sqlite":  # row by row, oldest first, three at a time, a pause between
        assert (report.deleted, report.batches, pauses) == (16, 6, [0.1] * 5)
        assert tags(engine) == {"0420", "0610"}
    else:  # whole months; April's rows stay until all of April has expired
        assert report.dropped == ["callguard_decisions_2026_01", "callguard_decisions_2026_02", "callguard_decisions_2026_03"]
        assert report.deleted == 0 and report.created == []
        assert tags(engine) == {"0410", "0420", "0610"}
        clock.set(at(2026, 6, 30))  # 60 days before is 1 May: all of April has expired
        later = pruner.run(force=True)
        assert later.dropped == ["callguard_decisions_2026_04"] and later.created == []
        assert tags(engine) == {"0610"}
    assert [o.number for o in optouts.list()] == ["+14155550123"]
    assert [c.number for c in consents.list()] == ["+14155550124"]
    assert len(list_changes(engine, limit=1000)) == changes_before


def test_a_run_stops_at_its_time_bound_and_the_next_one_is_due_at_once(engine: Engine, audit_sql: SqlAuditLog, policy: Policy) -> None:
    """Rows of months without a partition (on PostgreSQL, in the default partition) are deleted
    in batches on both backends; a run deletes for ``run_for`` seconds, then leaves the rest."""
    clock = FakeClock(at(2019, 3, 1))
    guard = Guard(policy, clock=clock, audit=audit_sql)
    decide(guard, clock, at(2019, 3, 1), 23, "old")
    decide(guard, clock, at(2019, 9, 1), 2, "new")
    clock.set(at(2019, 9, 2))
    pruner = AuditPruner(engine, parse_retention("30d"), clock=clock, sleep=clock.advance, batch_rows=5, pause=0.125, run_for=0.3,
                         holder="pruner")
    first = pruner.run()
    assert (first.deleted, first.batches, first.more) == (20, 4, True)  # batches at 0, 0.125, 0.25 and 0.375 s: past the bound
    assert LeaseStore(engine).get(LEASE).next_run_at == clock()  # type: ignore[union-attr]
    second = pruner.tick()
    assert second is not None and (second.deleted, second.more) == (3, False)
    assert tags(engine) == {"new"}
    assert pruner.tick().not_run == "not due"  # type: ignore[union-attr]
    clock.advance(300)
    assert pruner.tick().not_run is None  # type: ignore[union-attr]


def test_one_process_prunes_at_a_time(engine: Engine) -> None:
    clock = FakeClock(at(2026, 6, 15))
    here = AuditPruner(engine, parse_retention("5y"), clock=clock, holder="host-a:1")
    there = AuditPruner(engine, parse_retention("5y"), clock=clock, holder="host-b:2")
    assert here.run().not_run is None
    assert there.run().not_run == "not due"  # host-a ran it: the next run is due in five minutes
    clock.advance(300)
    assert LeaseStore(engine).acquire(LEASE, "host-c:3", now=clock(), hold_for=120)  # a run in progress elsewhere
    assert there.run().not_run == "a run is in progress in host-c:3"
    assert there.run(force=True).not_run == "a run is in progress in host-c:3"  # by hand too


def test_the_writers_keep_writing_while_a_run_pauses_between_batches(engine: Engine, audit_sql: SqlAuditLog, policy: Policy) -> None:
    """No transaction stays open across a pause: a worker's audit writer, on its own thread and
    connection, writes between any two batches."""
    clock = FakeClock(at(2019, 3, 1))
    old = Guard(policy, clock=clock, audit=audit_sql)
    decide(old, clock, at(2019, 3, 1), 12, "old")
    clock.set(at(2019, 9, 2))
    writer = BatchingAuditLog(audit_sql, flush_interval=60)
    calls = Guard(policy, clock=clock, audit=writer)
    written: list[int] = []

    def writers_turn(_seconds: float) -> None:
        calls.check(DialRequest(MAIN, "+14155550199", "+14155550100", call_sid=f"CA-during-{len(written)}"))
        flush = threading.Thread(target=lambda: written.append(writer.flush()))
        flush.start()
        flush.join(5)  # SQLite waits up to 10 s for a lock a run would still hold
        assert not flush.is_alive(), "the audit writer waited for the pruning run"

    report = AuditPruner(engine, parse_retention("30d"), clock=clock, sleep=writers_turn, batch_rows=4, holder="pruner").run()
    assert (report.deleted, report.batches) == (12, 4) and written == [1, 1, 1]
    assert tags(engine) == {"during"}


def test_a_stopping_worker_interrupts_a_run_after_its_current_batch(engine: Engine, audit_sql: SqlAuditLog, policy: Policy) -> None:
    clock = FakeClock(at(2019, 3, 1))
    decide(Guard(policy, clock=clock, audit=audit_sql), clock, at(2019, 3, 1), 10, "old")
    clock.set(at(2019, 9, 2))
    pruner = AuditPruner(engine, parse_retention("30d"), clock=clock, batch_rows=4, holder="pruner")
    pruner.sleep = lambda _seconds: pruner.interrupt()
    report = pruner.run()
    assert (report.deleted, report.more) == (4, True)
    pruner.sleep = lambda _seconds: None
    assert pruner.run(force=True).deleted == 6  # the next run starts afresh


def test_a_dry_run_counts_and_changes_nothing(engine: Engine, audit_sql: SqlAuditLog, policy: Policy) -> None:
    clock = FakeClock(at(2019, 3, 1))
    decide(Guard(policy, clock=clock, audit=audit_sql), clock, at(2019, 3, 1), 7, "old")
    clock.set(at(2019, 9, 2))
    pruner = AuditPruner(engine, parse_retention("30d"), clock=clock, holder="pruner")
    report = pruner.run(dry_run=True)
    assert (report.dry_run, report.deleted, report.dropped) == (True, 7, [])
    if engine.dialect.name == "postgresql":
        assert report.created == ["callguard_decisions_2019_09", "callguard_decisions_2019_10", "callguard_decisions_2019_11"]
    assert audit_sql.count() == 7 and LeaseStore(engine).get(LEASE) is None
    assert AuditPruner(engine, None, clock=clock).run(dry_run=True).deleted == 0


def test_without_a_retention_sqlite_needs_no_runs(sqlite_url: str) -> None:
    from callguard.store import create_database_engine

    engine = create_database_engine(sqlite_url)
    assert not AuditPruner(engine, None).needed and AuditPruner(engine, parse_retention("5y")).needed
    engine.dispose()


# -- PostgreSQL's months ------------------------------------------------------------------------


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    from callguard.store import create_database_engine, ensure_schema

    engine = create_database_engine(postgres_url)
    ensure_schema(engine)
    yield engine
    engine.dispose()


def months(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        found, default = partitions(conn)
    return [m.name for m in found] + (["default"] if default else [])


@pytest.mark.postgres
def test_months_are_made_ahead_and_rows_waiting_in_the_default_partition_move_into_theirs(postgres_engine: Engine, policy: Policy) -> None:
    engine, audit_sql = postgres_engine, SqlAuditLog(postgres_engine)
    clock = FakeClock(at(2031, 5, 20))
    decide(Guard(policy, clock=clock, audit=audit_sql), clock, at(2031, 5, 20), 3, "stray")  # no partition for May 2031 yet
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM callguard_decisions_default")).scalar_one() == 3
    # Forever: nothing expires, but the months are made all the same.
    report = AuditPruner(engine, None, clock=clock, holder="pruner").run()
    assert report.created == ["callguard_decisions_2031_05", "callguard_decisions_2031_06", "callguard_decisions_2031_07"]
    assert months(engine)[-4:] == ["callguard_decisions_2031_05", "callguard_decisions_2031_06", "callguard_decisions_2031_07", "default"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM callguard_decisions_default")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM callguard_decisions_2031_05")).scalar_one() == 3
    assert tags(engine) == {"stray"} and audit_sql.count() == 3
    clock.set(at(2031, 6, 1))
    assert AuditPruner(engine, None, clock=clock, holder="pruner").run(force=True).created == ["callguard_decisions_2031_08"]


@pytest.mark.postgres
def test_a_missing_default_partition_is_made_again(postgres_engine: Engine) -> None:
    with postgres_engine.begin() as conn:
        conn.execute(text("DROP TABLE callguard_decisions_default"))
    AuditPruner(postgres_engine, None, clock=FakeClock(at(2031, 5, 20)), holder="pruner").run()
    assert months(postgres_engine)[-1] == "default"


@pytest.mark.postgres
def test_a_partition_change_waits_for_the_tables_lock_half_a_second_at_most(postgres_engine: Engine, policy: Policy) -> None:
    """Writers queue behind a DROP waiting for its lock: it gives up soon and the next run retries."""
    engine, audit_sql = postgres_engine, SqlAuditLog(postgres_engine)
    clock = FakeClock(at(2031, 1, 10))
    keeper = AuditPruner(engine, None, clock=clock, holder="keeper")
    keeper.run()
    decide(Guard(policy, clock=clock, audit=audit_sql), clock, at(2031, 1, 10), 2, "jan")
    clock.set(at(2031, 6, 10))
    pruner = AuditPruner(engine, parse_retention("30d"), clock=clock, holder="pruner")
    with engine.connect() as reader:
        reader.execute(text("SELECT count(*) FROM callguard_decisions"))  # a long read holds the table, as an export would
        started = time.monotonic()
        report = pruner.run()
        waited = time.monotonic() - started
        reader.rollback()
    assert "callguard_decisions_2031_01" in report.deferred and "callguard_decisions_2031_01" not in report.dropped
    assert waited < 5.0  # each change waits 0.5 s at most (several changes in this run)
    assert tags(engine) == {"jan"}
    clock.advance(300)
    assert "callguard_decisions_2031_01" in pruner.run().dropped and tags(engine) == set()


def test_month_arithmetic() -> None:
    assert Month(2026, 12).plus(1) == Month(2027, 1) and Month(2026, 1).plus(-1) == Month(2025, 12)
    assert Month(2026, 12).end == datetime(2027, 1, 1, tzinfo=UTC)
    assert Month.of(datetime(2027, 1, 1, tzinfo=UTC).astimezone()) == Month(2027, 1)
