"""Opt-outs and consent on SQLite and PostgreSQL (callguard.store.optouts, callguard.store.consents)."""

from __future__ import annotations

import threading

import pytest

from callguard.store.consents import ConsentStore
from callguard.store.optouts import OptOutStore

FAMILY = "AC" + "a" * 32
OTHER = "AC" + "b" * 32
NOW = 1_780_000_000.0



def test_opt_out_scopes(engine) -> None:
    store = OptOutStore(engine)
    assert store.add("+14155550123", FAMILY, now=NOW, source="prompt", call_sid="CA1")
    assert not store.add("+14155550123", FAMILY, now=NOW + 5, source="admin")  # idempotent
    found = store.find("+14155550123", FAMILY, "spring")
    assert found is not None and found.campaign == "*" and found.source == "prompt" and found.call_sid == "CA1"
    assert found.created_at == pytest.approx(NOW)
    assert store.find("+14155550123", OTHER, "spring") is None  # another family
    assert store.find("+14155550124", FAMILY, None) is None

    store.add("+14155550199", FAMILY, campaign="spring", now=NOW, source="prompt")
    assert store.find("+14155550199", FAMILY, "spring") is not None
    assert store.find("+14155550199", FAMILY, "autumn") is None
    assert store.find("+14155550199", FAMILY, None) is None


def test_remove_and_list(engine) -> None:
    store = OptOutStore(engine)
    store.add_many([("+14155550101", None), ("+14155550102", "spring"), ("+14155550101", None)], FAMILY, source="import", now=NOW)
    assert [(o.number, o.campaign) for o in store.list(account_sid=FAMILY)] == [("+14155550101", "*"), ("+14155550102", "spring")]
    assert store.remove("+14155550101", FAMILY, now=NOW)
    assert not store.remove("+14155550101", FAMILY, now=NOW)
    assert store.find("+14155550101", FAMILY, None) is None


def test_concurrent_adds_record_once(engine) -> None:
    store = OptOutStore(engine)
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(store.add("+14155550123", FAMILY, now=NOW))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1 and len(store.list()) == 1


def test_consent_validity(engine) -> None:
    consents = ConsentStore(engine)
    day = 86_400.0
    consents.add(
        "+14155550123", FAMILY, kind="prior_express_written", obtained_at=NOW - day, expires_at=NOW + day, now=NOW, evidence="doc-1"
    )
    consents.add("+14155550124", FAMILY, kind="prior_express_written", obtained_at=NOW - day, campaign="spring", now=NOW)
    assert consents.find_valid("+14155550123", FAMILY, "spring", NOW) is not None
    assert consents.find_valid("+14155550123", FAMILY, "spring", NOW + 2 * day) is None  # expired
    assert consents.find_valid("+14155550123", FAMILY, "spring", NOW - 2 * day) is None  # not yet given
    assert consents.find_valid("+14155550124", FAMILY, "spring", NOW) is not None
    assert consents.find_valid("+14155550124", FAMILY, "autumn", NOW) is None
    assert consents.find_valid("+14155550123", OTHER, "spring", NOW) is None


def test_an_opt_out_revokes_earlier_consent(engine) -> None:
    consents, optouts = ConsentStore(engine), OptOutStore(engine)
    earlier = consents.add("+14155550123", FAMILY, kind="prior_express_written", obtained_at=NOW - 100, now=NOW - 100)
    campaign_only = consents.add("+14155550125", FAMILY, kind="prior_express", obtained_at=NOW - 100, campaign="spring", now=NOW)
    optouts.add("+14155550123", FAMILY, now=NOW, source="prompt")
    optouts.add("+14155550125", FAMILY, campaign="autumn", now=NOW, source="prompt")  # another campaign's opt-out
    assert consents.find_valid("+14155550123", FAMILY, None, NOW + 1) is None
    revoked = {c.id: c for c in consents.list(account_sid=FAMILY)}
    assert revoked[earlier].revoked_at == pytest.approx(NOW)
    assert revoked[campaign_only].revoked_at is None
    # Consent given after the opt-out is not revoked by it (the opt-out check still wins).
    later = consents.add("+14155550123", FAMILY, kind="prior_express_written", obtained_at=NOW + 10, now=NOW + 10)
    assert consents.find_valid("+14155550123", FAMILY, None, NOW + 20).id == later  # type: ignore[union-attr]
    assert consents.revoke(later, now=NOW + 30, reason="test")
    assert not consents.revoke(later, now=NOW + 31, reason="again")
