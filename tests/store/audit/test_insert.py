"""The writers' own INSERT against SQLAlchemy's, on SQLite and on PostgreSQL (callguard.store.audit.insert)."""

from __future__ import annotations

from sqlalchemy import Text, cast, insert, select

from callguard import DialRequest, FakeClock, Guard
from callguard.policy import Policy
from callguard.store import SqlAuditLog, decision_row
from callguard.store.schema import decisions

from ...conftest import MAIN


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
