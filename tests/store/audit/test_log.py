"""Reads and synchronous writes of the audit log, on SQLite and on PostgreSQL (callguard.store.audit.log)."""

from __future__ import annotations

import pytest

from callguard import Action, DialRequest, FakeClock, Guard
from callguard.policy import Policy
from callguard.store import SqlAuditLog, create_database_engine, ensure_schema

from ...conftest import MAIN


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


@pytest.mark.parametrize("pattern", ["%", "_", "%owned", "geo%", "geo_high_risk_tollfraud", "callerid.not_owne_", "\\", "%\\%"])
def test_a_reason_filter_matches_whole_codes_not_patterns(audit_sql: SqlAuditLog, policy: Policy, pattern: str) -> None:
    guard = Guard(policy, audit=audit_sql)
    guard.check(DialRequest(MAIN, "+18765550100", "+14155550177", call_sid="CA-two-reasons"))
    guard.check(DialRequest(MAIN, "+18765550100", "+14155550100", call_sid="CA-one-reason"))
    assert [r.call_sid for r in audit_sql.query(reason="callerid.not_owned")] == ["CA-two-reasons"]
    assert [r.call_sid for r in audit_sql.query(reason="geo.high_risk_tollfraud")] == ["CA-one-reason", "CA-two-reasons"]
    assert audit_sql.query(reason=pattern) == []


def test_hostile_values_are_clipped_not_refused(audit_sql: SqlAuditLog, policy: Policy) -> None:
    guard = Guard(policy, audit=audit_sql)
    decision = guard.check(DialRequest(MAIN, "+1415\x00" + "9" * 1000, "x" * 5000, call_sid="C" * 200))
    assert decision.action is Action.REJECT
    row = audit_sql.recent(1)[0]
    assert row.to_raw is not None and len(row.to_raw) == 300 and "\x00" not in row.to_raw
    assert row.from_raw is not None and len(row.from_raw) == 300
    assert row.call_sid is not None and len(row.call_sid) == 64


def test_schema_creation_is_idempotent(database_url: str) -> None:
    engine = create_database_engine(database_url)
    ensure_schema(engine)
    ensure_schema(engine)
    SqlAuditLog(engine).ping()
    engine.dispose()


def test_unsupported_database_urls() -> None:
    from callguard import ConfigError

    with pytest.raises(ConfigError, match="CALLGUARD_DATABASE_URL: unsupported database 'mysql'"):
        create_database_engine("mysql://root@localhost/test")
    with pytest.raises(ConfigError, match="in-memory SQLite"):
        create_database_engine("sqlite://")
    with pytest.raises(ConfigError, match="not a database URL"):
        create_database_engine("not a url")
