"""Unknown and suspended accounts are refused (callguard.checks.account)."""

from __future__ import annotations

from collections.abc import Callable

from callguard import Action, Decision

from ..conftest import STRANGER, SUSPENDED


def test_unknown_account(decide: Callable[..., Decision]) -> None:
    decision = decide("+14155550123", account=STRANGER)
    assert decision.action is Action.REJECT
    assert decision.reasons[0] == "account.unknown"
    assert STRANGER in decision.sentence
    # Checks that need an account do not run; the rest still record their findings.
    assert decision.checks == ("emergency", "account", "destination", "prefix")


def test_missing_account_sid(decide: Callable[..., Decision]) -> None:
    assert decide("+14155550123", account=None).reasons[0] == "account.unknown"


def test_suspended_account(decide: Callable[..., Decision]) -> None:
    decision = decide("+14155550123", account=SUSPENDED, from_="+14155550199")
    assert decision.reasons == ("account.suspended",)
    assert "unpaid invoice" in decision.sentence


def test_suspension_of_a_parent(write_policy: Callable[..., object]) -> None:
    from callguard import DialRequest, Guard, load_policy

    parent, child = "AC" + "a" * 32, "AC" + "b" * 32
    path = write_policy(
        f"""
        [accounts.{parent}]
        suspended = true
        caller_ids = ["+14155550100"]
        permissions.US = {{ low_risk = true }}
        [accounts.{child}]
        parent = "{parent}"
        """
    )
    decision = Guard(load_policy(path)).check(DialRequest(child, "+14155550123", "+14155550100"))
    assert decision.reasons == ("account.suspended",)
    assert f"parent account {parent}" in decision.sentence
