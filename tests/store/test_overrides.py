"""Runtime changes in the database and their propagation (callguard.store.overrides, callguard.runtime.refresh)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from callguard import Action, DialRequest, FakeClock, Guard, load_policy
from callguard.runtime.refresh import PolicyRefresher
from callguard.store import create_database_engine, ensure_schema
from callguard.store.overrides import OverrideStore

from ..conftest import MAIN, TENANT


@pytest.fixture
def store(database_url: str):
    engine = create_database_engine(database_url)
    ensure_schema(engine)
    yield OverrideStore(engine)
    engine.dispose()


def test_changes_bump_the_version_and_are_logged(store: OverrideStore) -> None:
    assert store.version() == 0
    store.set_suspended(TENANT, True, reason="chargeback", actor="alice", now=100.0)
    block_id = store.add_block("+2474", account_sid=None, reason="investigation", expires_at=200.0, actor="bob", now=101.0)
    store.set_suspended(TENANT, False, reason=None, actor="alice", now=102.0)
    assert store.version() == 3
    overrides = store.load()
    assert overrides.version == 3 and not overrides.accounts[TENANT].suspended
    assert [(b.prefix, b.expires, b.account) for b in overrides.blocks] == [("+2474", 200.0, None)]
    log = store.changes()
    assert [(c.actor, c.entity, c.action) for c in log] == [
        ("alice", "account", "resume"),
        ("bob", "prefix_block", "create"),
        ("alice", "account", "suspend"),
    ]
    assert log[0].before == {"suspended": True, "reason": "chargeback"} and log[0].after == {"suspended": False, "reason": None}
    assert store.lift_block(block_id, actor="bob", now=103.0)
    assert not store.lift_block(block_id, actor="bob", now=104.0)
    assert store.load().blocks == () and store.version() == 4
    assert [b.id for b in store.blocks(include_lifted=True)] == [block_id]


def test_a_refresher_picks_changes_up_and_survives_a_lost_database(
    store: OverrideStore, policy_path: Path, clock: FakeClock, tmp_path: Path
) -> None:
    guard = Guard(load_policy(policy_path), clock=clock)
    refresher = PolicyRefresher(guard, str(policy_path), store)
    request = DialRequest(MAIN, "+14155550123", "+14155550100")
    assert not refresher.refresh_now()
    store.set_suspended(MAIN, True, reason="fraud", actor="ops", now=clock())
    assert refresher.refresh_now()
    assert guard.check(request).reason == "account.suspended"
    assert not refresher.refresh_now()  # nothing new

    # The database goes away: the last good policy stays in force, and the error is reported.
    refresher.store = OverrideStore(create_database_engine(f"sqlite:///{tmp_path / 'gone' / 'x.db'}"))
    assert not refresher.refresh_now()
    assert guard.check(request).reason == "account.suspended"
    assert refresher.status().last_error is not None and refresher.status().last_error.startswith("database")


def test_with_a_stale_limit_a_lost_database_ends_in_the_fail_mode(
    store: OverrideStore, policy_path: Path, clock: FakeClock, tmp_path: Path
) -> None:
    guard = Guard(load_policy(policy_path), clock=clock)
    refresher = PolicyRefresher(guard, str(policy_path), store, stale_limit=300)
    store.set_suspended(MAIN, True, reason="fraud", actor="ops", now=clock())
    assert refresher.refresh_now() and refresher.status().fresh_until == clock() + 300
    clock.advance(200)
    assert not refresher.refresh_now()  # nothing new, but the database answered: fresh for 300 s more
    request = DialRequest(MAIN, "+14155550123", "+14155550100")
    working = refresher.store
    refresher.store = OverrideStore(create_database_engine(f"sqlite:///{tmp_path / 'gone' / 'x.db'}"))
    clock.advance(299)
    refresher.refresh_now()
    assert guard.check(request).reason == "account.suspended"  # the last good policy
    clock.advance(2)
    refresher.refresh_now()
    assert guard.check(request).reasons == ("fault.internal",)  # past the limit: the fail mode
    refresher.store = working
    refresher.refresh_now()
    assert guard.check(request).reason == "account.suspended"


def test_editing_the_policy_file_is_picked_up_and_a_broken_edit_is_not(
    store: OverrideStore, write_policy: Callable[..., Path], policy_path: Path, clock: FakeClock
) -> None:
    import os

    guard = Guard(load_policy(policy_path), clock=clock)
    refresher = PolicyRefresher(guard, str(policy_path), store)
    text = policy_path.read_text()
    policy_path.write_text(text.replace('US = { low_risk = true }\nCA = { low_risk = true }', 'CA = { low_risk = true }', 1))
    os.utime(policy_path, (1, 1))
    assert refresher.refresh_now()
    assert guard.check(DialRequest(MAIN, "+14155550123", "+14155550100")).reason == "geo.low_risk"
    policy_path.write_text("[defaults]\nfail_mode = 3\n")
    os.utime(policy_path, (2, 2))
    assert not refresher.refresh_now()
    assert guard.check(DialRequest(MAIN, "+16135550123", "+14155550100")).action is Action.CONNECT
    assert "defaults.fail_mode" in (refresher.status().last_error or "")


def test_two_apps_on_one_database_see_one_suspension(make_app: Callable[..., Any], app_config: dict[str, Any]) -> None:
    from ..conftest import TwilioClient, dial_params

    first, second = make_app(app_config), make_app(app_config)
    first.extensions["callguard"].overrides.set_suspended(MAIN, True, reason="fraud", actor="ops", now=0)
    second.extensions["callguard"].refresher.refresh_now()
    response = TwilioClient(second.test_client()).post("/voice/outbound", dial_params("+14155550123"))
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=account.suspended"
