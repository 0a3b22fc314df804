"""The change log, written by every store in the transaction of the change (callguard.store.changes)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from callguard import StoreUnavailable
from callguard.store.changes import list_changes
from callguard.store.consents import ConsentStore
from callguard.store.optouts import OptOutStore

FAMILY = "AC" + "a" * 32
NOW = 1_780_000_000.0



def test_opt_outs_and_consents_are_logged_with_who_when_before_and_after(engine) -> None:
    optouts, consents = OptOutStore(engine), ConsentStore(engine)
    consent_id = consents.add("+14155550123", FAMILY, kind="inquiry", obtained_at=NOW - 10, now=NOW - 5, actor="api:sales")
    assert optouts.add("+14155550123", FAMILY, now=NOW, source="prompt", call_sid="CA1")  # revokes the consent
    assert not optouts.add("+14155550123", FAMILY, now=NOW + 1, source="api", actor="api:ops")  # no change, no entry
    assert optouts.remove("+14155550123", FAMILY, actor="cli:ann", now=NOW + 2)
    optouts.add_many([("+14155550124", None), ("+14155550125", "spring")], FAMILY, source="import", now=NOW + 3, actor="cli:ann")
    second = consents.add("+14155550126", FAMILY, kind="inquiry", obtained_at=NOW, now=NOW + 4)
    assert consents.revoke(second, now=NOW + 5, reason="asked", actor="api:ops")

    log = list(reversed(list_changes(engine)))
    assert [(c.actor, c.entity, c.entity_id, c.action, c.at) for c in log] == [
        ("api:sales", "consent", str(consent_id), "create", NOW - 5),
        ("prompt", "optout", f"{FAMILY}/+14155550123", "create", NOW),
        ("prompt", "consent", str(consent_id), "revoke", NOW),
        ("cli:ann", "optout", f"{FAMILY}/+14155550123", "delete", NOW + 2),
        ("cli:ann", "optout", FAMILY, "import", NOW + 3),
        ("admin", "consent", str(second), "create", NOW + 4),
        ("api:ops", "consent", str(second), "revoke", NOW + 5),
    ]
    created = log[1].after
    assert created["campaign"] == "*" and created["source"] == "prompt" and created["call_sid"] == "CA1" and log[1].before is None
    assert log[2].after["revoked_reason"] == "opt-out (prompt)"
    assert log[3].before == created and log[3].after is None
    assert log[4].after == {"added": 2, "source": "import"}
    assert log[6].before["revoked_at"] is None and log[6].after["revoked_reason"] == "asked"
    assert list_changes(engine, limit=2, entity="consent")[0].action == "revoke"


def test_no_change_without_its_entry(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE callguard_changes"))
    with pytest.raises(StoreUnavailable):
        OptOutStore(engine).add("+14155550123", FAMILY, now=NOW)
    assert OptOutStore(engine).list() == []  # the opt-out went with its failed log entry
