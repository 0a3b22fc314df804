"""Complaints on SQLite and PostgreSQL (callguard.store.complaints): each recorded with its
family-wide opt-out in one transaction, listed newest first, and counted for the thresholds
from the complaint after the last one that fired."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from callguard.errors import StoreUnavailable
from callguard.records import EVERY_CAMPAIGN
from callguard.store.changes import list_changes
from callguard.store.complaints import ComplaintStore, NewComplaint
from callguard.store.consents import ConsentStore
from callguard.store.optouts import OptOutStore
from callguard.traffic.complaints import CALLER_ID, CAMPAIGN, ComplaintScope

ACCOUNT = "AC" + "c" * 32
FAMILY = "AC" + "a" * 32
NOW = 1_780_000_000.0
DAY = 86_400.0


def new(
    number: str = "+14155550123", caller_id: str = "+12125550100", *, campaign: str | None = None, received_at: float = NOW
) -> NewComplaint:
    return NewComplaint(number, caller_id, ACCOUNT, FAMILY, campaign, "consumer", received_at, "rude")


@pytest.fixture
def store(engine: Any) -> ComplaintStore:
    return ComplaintStore(engine, OptOutStore(engine))


def test_a_complaint_records_its_opt_out_and_revokes_consent_in_one_transaction(store: ComplaintStore, engine: Any) -> None:
    consents = ConsentStore(engine)
    consents.add("+14155550123", FAMILY, kind="prior_express_written", obtained_at=NOW - DAY, now=NOW - DAY)
    complaint, opted_out = store.add(new(campaign="spring"), now=NOW, actor="api:admin")
    assert opted_out and complaint.family == FAMILY and complaint.received_at == pytest.approx(NOW)
    optout = store.optouts.find("+14155550123", FAMILY, "autumn")  # every campaign of the family, not only the complaint's
    assert optout is not None and optout.campaign == EVERY_CAMPAIGN and optout.source == "complaint"
    assert optout.note == f"complaint {complaint.id} (consumer)"
    assert consents.find_valid("+14155550123", FAMILY, None, NOW + 1) is None
    assert [(c.entity, c.action, c.actor) for c in list_changes(engine)] == [
        ("consent", "revoke", "api:admin"), ("optout", "create", "api:admin"), ("complaint", "create", "api:admin"),
        ("consent", "create", "admin"),
    ]
    again, opted_out = store.add(new(caller_id="+12125550101"), now=NOW + 1, actor="api:admin")
    assert not opted_out and again.id > complaint.id  # a second complaint: recorded, the opt-out was there already
    assert store.get(complaint.id) == complaint


def test_an_import_is_all_or_nothing(store: ComplaintStore) -> None:
    unfamilied = NewComplaint("+14155550125", "+12125550100", ACCOUNT, None, None, "consumer", NOW)  # type: ignore[arg-type]
    with pytest.raises(StoreUnavailable):  # the database refuses the last one (family is NOT NULL): nothing is kept
        store.add_many([new("+14155550101"), unfamilied], now=NOW, actor="cli")
    assert store.list() == [] and store.optouts.list() == []
    assert [c.number for c in store.add_many([new("+14155550101"), new("+14155550102")], now=NOW, actor="cli")] == [
        "+14155550101", "+14155550102",
    ]
    assert [o.number for o in store.optouts.list()] == ["+14155550101", "+14155550102"]


def test_list_filters_newest_first(store: ComplaintStore) -> None:
    first, _ = store.add(new("+14155550101", campaign="spring", received_at=NOW - 10 * DAY), now=NOW, actor="a")
    second, _ = store.add(new("+14155550102", caller_id="+12125550101"), now=NOW, actor="a")
    assert [c.id for c in store.list()] == [second.id, first.id]
    assert [c.id for c in store.list(caller_id="+12125550101")] == [second.id]
    assert [c.id for c in store.list(campaign="spring", account_sid=ACCOUNT, family=FAMILY)] == [first.id]
    assert [c.id for c in store.list(since=NOW - DAY)] == [second.id]
    assert [c.id for c in store.list(before_id=second.id, limit=5)] == [first.id]
    assert store.list(account_sid=FAMILY) == []


def test_counts_in_the_window_since_the_last_firing(store: ComplaintStore) -> None:
    caller = ComplaintScope(CALLER_ID, ACCOUNT, "+12125550100")
    campaign = ComplaintScope(CAMPAIGN, FAMILY, "spring")
    assert store.count_since_fired(caller, NOW - 30 * DAY) == (0, None)
    old, _ = store.add(new("+14155550100", received_at=NOW - 40 * DAY), now=NOW, actor="a")
    ids = [store.add(new(f"+1415555010{n}", campaign="spring"), now=NOW, actor="a")[0].id for n in (1, 2)]
    store.add(new("+14155550109", caller_id="+12125550199"), now=NOW, actor="a")  # another caller ID
    assert store.count_since_fired(caller, NOW - 30 * DAY) == (2, ids[-1])  # the one received 40 days ago is out
    assert store.count_since_fired(caller, NOW - 50 * DAY) == (3, ids[-1])
    assert store.count_since_fired(campaign, NOW - 30 * DAY) == (2, ids[-1])
    assert store.mark_fired(caller, ids[-1]) and not store.mark_fired(caller, ids[-1])
    assert store.count_since_fired(caller, NOW - 50 * DAY) == (0, None)  # counting starts afresh
    assert store.count_since_fired(campaign, NOW - 30 * DAY) == (2, ids[-1])  # the campaign's count is its own
    later, _ = store.add(new("+14155550103"), now=NOW + 1, actor="a")
    assert store.count_since_fired(caller, NOW - 50 * DAY) == (1, later.id) and old.id < later.id


def test_of_two_hosts_marking_the_same_firing_one_wins(store: ComplaintStore) -> None:
    complaint, _ = store.add(new(), now=NOW, actor="a")
    scope = ComplaintScope(CALLER_ID, ACCOUNT, complaint.caller_id)
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(store.mark_fired(scope, complaint.id))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
