"""The audit log, on SQLite and on PostgreSQL (callguard.store.audit)."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Text, cast, insert, select

from callguard import Action, DialRequest, FakeClock, Guard
from callguard.errors import StoreUnavailable
from callguard.policy import Policy
from callguard.store import BatchingAuditLog, SqlAuditLog, create_database_engine, decision_row, ensure_schema
from callguard.store.schema import decisions

from ..conftest import MAIN


@pytest.fixture
def audit_sql(database_url: str):
    engine = create_database_engine(database_url)
    ensure_schema(engine)
    yield SqlAuditLog(engine)
    engine.dispose()


def test_decisions_round_trip(audit_sql: SqlAuditLog, policy: Policy, clock: FakeClock) -> None:
    guard = Guard(policy, clock=clock, audit=audit_sql)
    guard.check(DialRequest(MAIN, "+14155550123", "+14155550100", call_sid="CA-connect", source="webhook"))
    guard.check(DialRequest(MAIN, "+18765550100", "+14155550177", call_sid="CA-reject"))
    rows = audit_sql.recent(10)
    assert [r.call_sid for r in rows] == ["CA-reject", "CA-connect"]
    reject, connect = rows
    assert connect.action == "connect" and connect.reasons == ("ok",) and connect.e164 == "+14155550123"
    assert connect.region == "US" and connect.risk == "low_risk" and connect.source == "webhook"
    assert connect.checks == ("emergency", "account", "destination", "prefix", "geo", "callerid")
    assert connect.decided_at == pytest.approx(clock())
    assert reject.reasons == ("geo.high_risk_tollfraud", "callerid.not_owned")
    assert "Jamaica" in reject.sentence
    assert audit_sql.recent(10, call_sid="CA-connect")[0].action == "connect"
    assert audit_sql.count() == 2


def test_hostile_values_are_clipped_not_refused(audit_sql: SqlAuditLog, policy: Policy) -> None:
    guard = Guard(policy, audit=audit_sql)
    decision = guard.check(DialRequest(MAIN, "+1415\x00" + "9" * 1000, "x" * 5000, call_sid="C" * 200))
    assert decision.action is Action.REJECT
    row = audit_sql.recent(1)[0]
    assert row.to_raw is not None and len(row.to_raw) == 300 and "\x00" not in row.to_raw
    assert row.from_raw is not None and len(row.from_raw) == 300
    assert row.call_sid is not None and len(row.call_sid) == 64


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


def test_the_writer_stores_rows_exactly_as_sqlalchemy_inserts_them(audit_sql: SqlAuditLog, policy: Policy) -> None:
    """The writer's own INSERTs (the driver's executemany, NULL columns left out) store what
    ``insert(decisions)`` stores: the same text for a timestamp on SQLite, whole seconds included,
    and the same NULLs."""
    guard = Guard(policy, clock=FakeClock(1_780_000_000.0))
    made = [
        guard.check(DialRequest(MAIN, "+14155550123", "+14155550100", call_sid="CA-a", source="webhook")),
        guard.check(DialRequest(MAIN, "sip:alice@example.com", None, sip_domain="acme.sip.twilio.com", campaign="renewals")),
        guard.check(DialRequest(None, "+18765550100", "+14155550177", call_sid="CA-b")),
    ]
    guard = Guard(policy, clock=FakeClock(1_780_000_000.123456))
    made.append(guard.check(DialRequest(MAIN, "+14155550124", "+14155550100", call_sid="CA-c")))
    rows = [decision_row(d) for d in made]
    audit_sql.write_rows(rows)  # the writer's way, all rows in one batch
    with audit_sql.engine.begin() as conn:
        conn.execute(insert(decisions), rows)  # SQLAlchemy's way
        stored = conn.execute(select(*[c for c in decisions.c if c.name != "id"]).order_by(decisions.c.id)).all()
        as_text = conn.execute(select(cast(decisions.c.decided_at, Text)).order_by(decisions.c.id)).scalars().all()
    assert stored[:4] == stored[4:]
    assert as_text[:4] == as_text[4:]
    assert {value is None for value in stored[1]} == {True, False}  # the rows have NULL columns


def test_schema_creation_is_idempotent(database_url: str) -> None:
    engine = create_database_engine(database_url)
    ensure_schema(engine)
    ensure_schema(engine)
    SqlAuditLog(engine).ping()
    engine.dispose()


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


def test_unsupported_database_urls() -> None:
    from callguard import ConfigError

    with pytest.raises(ConfigError, match="CALLGUARD_DATABASE_URL: unsupported database 'mysql'"):
        create_database_engine("mysql://root@localhost/test")
    with pytest.raises(ConfigError, match="in-memory SQLite"):
        create_database_engine("sqlite://")
    with pytest.raises(ConfigError, match="not a database URL"):
        create_database_engine("not a url")


_FIRST_SECOND, _LAST_SECOND = -62_135_596_800.0, 253_402_300_799.0  # of years 1 and 9999, as epoch seconds
_EPOCHS = st.floats(min_value=_FIRST_SECOND, max_value=_LAST_SECOND)


@given(st.lists(st.datetimes(timezones=st.just(timezone.utc)) | st.datetimes() | _EPOCHS, min_size=1, max_size=30))
def test_the_writers_timestamp_text_is_the_dialects(stamps: list[datetime | float]) -> None:
    """The writer's text for a decision's epoch seconds (each second's text kept, the microseconds
    rounded as fromtimestamp rounds them) is what SQLite's DATETIME processor makes of the UTC
    datetime, in any order; so is its text for an aware datetime."""
    from sqlalchemy import DateTime
    from sqlalchemy.dialects import sqlite

    from callguard.clock import utc_datetime
    from callguard.store.audit import _epoch_stamps

    dialect = sqlite.dialect()
    process = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
    stamp = _epoch_stamps(process)
    # the same second again, its edges, and the half-microsecond boundaries that rounding decides
    neighbours = [
        s + d if isinstance(s, float) else s.replace(microsecond=m)
        for s in stamps
        for d, m in ((0.0, 0), (1e-7, 1), (0.4999995, 999_999), (5e-7, 500_000), (0.9999995, 999_999))
    ]
    values = [v for v in stamps + neighbours if not isinstance(v, float) or v <= _LAST_SECOND]
    assert [stamp(v) for v in values] == [process(v if isinstance(v, datetime) else utc_datetime(v)) for v in values]


def test_the_writers_timestamp_for_postgresql_is_the_utc_datetime() -> None:
    from callguard.store.audit import _epoch_stamps

    stamp = _epoch_stamps(None)  # psycopg binds datetimes as they are
    assert stamp(1_780_000_000.5) == datetime(2026, 5, 28, 20, 26, 40, 500_000, tzinfo=timezone.utc)
    aware = datetime(2026, 5, 28, 20, 26, 40, tzinfo=timezone.utc)
    assert stamp(aware) is aware
