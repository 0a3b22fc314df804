"""Accounts that follow Twilio's settings, before the first sync and once the last one is too old (callguard.checks.twilio)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from callguard import Action, DialRequest, FakeClock, Guard, load_policy
from callguard.policy import Permission, Policy

from ..conftest import MAIN, SYNC_POLICY

DAY = 86_400.0


def synced(policy: Policy, *, at: float | None, stale_at: float | None = None) -> Policy:
    """``policy`` with MAIN's (otherwise empty-handed) Twilio picture read at ``at``; MAIN may call the US from its number."""
    main = dataclasses.replace(
        policy.accounts[MAIN], twilio_synced_at=at, twilio_stale_at=stale_at, caller_ids=frozenset({"+14155550100"}),
        permissions={"US": Permission(low_risk=True)},
    )
    return dataclasses.replace(policy, accounts={**policy.accounts, MAIN: main})


def decide(policy: Policy, clock: FakeClock, to: str) -> tuple[Action, tuple[str, ...]]:
    decision = Guard(policy, clock=clock).check(DialRequest(MAIN, to, from_="+14155550100"))
    return decision.action, decision.reasons


def test_a_synced_account_decides_on_its_picture_until_it_goes_stale(write_policy: Callable[..., Path], clock: FakeClock) -> None:
    policy = synced(load_policy(write_policy(SYNC_POLICY)), at=clock(), stale_at=clock() + DAY)
    clock.advance(DAY - 1)
    assert decide(policy, clock, "+14155550123") == (Action.CONNECT, ("ok",))
    clock.advance(1)
    action, reasons = decide(policy, clock, "+14155550123")
    assert (action, reasons[0]) == (Action.REJECT, "twilio.stale")
    decision = Guard(policy, clock=clock).check(DialRequest(MAIN, "+14155550123", from_="+14155550100"))
    assert decision.sentence.startswith("Callguard's copy of Twilio's settings for account Main")
    assert "1 day, 0:00:00 old" in decision.sentence
    assert decide(policy, clock, "911") == (Action.CONNECT, ("emergency",))


def test_before_the_first_sync_the_fail_mode_refuses(write_policy: Callable[..., Path], clock: FakeClock) -> None:
    policy = synced(load_policy(write_policy(SYNC_POLICY)), at=None)
    action, reasons = decide(policy, clock, "+14155550123")
    assert (action, reasons[0]) == (Action.REJECT, "twilio.not_synced")
    assert decide(policy, clock, "911") == (Action.CONNECT, ("emergency",))


def test_with_fail_mode_connect_the_last_picture_keeps_deciding(write_policy: Callable[..., Path], clock: FakeClock) -> None:
    lenient = load_policy(write_policy(SYNC_POLICY.replace('fail_mode = "reject"', 'fail_mode = "connect"')))
    assert decide(synced(lenient, at=clock() - 10 * DAY, stale_at=clock() - 9 * DAY), clock, "+14155550123") == (Action.CONNECT, ("ok",))
    assert decide(synced(lenient, at=None), clock, "+14155550123") == (Action.CONNECT, ("ok",))


def test_accounts_that_do_not_follow_twilio_skip_the_check(guard: Guard) -> None:
    decision = guard.check(DialRequest(MAIN, "+14155550123", from_="+14155550100"))
    assert decision.action is Action.CONNECT and "twilio" not in decision.checks
