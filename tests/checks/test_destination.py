"""Dial strings that are not valid, dialable numbers are refused (callguard.checks.destination)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from callguard import Action, Decision, DialRequest, Guard, load_policy

from ..conftest import MAIN


@pytest.mark.parametrize("to", ["", "hello", "+1415555", "12", "+999123456", "1" * 400, "4155550\x00123"])
def test_invalid_destinations(decide: Callable[..., Decision], to: str) -> None:
    decision = decide(to)
    assert decision.action is Action.REJECT
    assert decision.reasons[0] == "destination.invalid"
    assert "geo" not in decision.checks  # nothing to look up a permission for


def test_numbers_only_dialable_inside_their_country(write_policy: Callable[..., object]) -> None:
    path = write_policy(
        f"""
        [accounts.{MAIN}]
        caller_ids = ["+14155550100"]
        permissions.IT = {{ low_risk = true, high_risk_special = true }}
        """
    )
    guard = Guard(load_policy(path))
    decision = guard.check(DialRequest(MAIN, "+39848123456", "+14155550100"))
    assert decision.reasons == ("destination.not_dialable",)


def test_client_and_sip_endpoints_are_refused_by_default(decide: Callable[..., Decision]) -> None:
    assert decide("client:bob").reasons == ("destination.non_pstn",)
    assert decide("sip:bob@example.com").reasons == ("destination.non_pstn",)


def test_non_pstn_targets_connect_when_the_policy_says_so(write_policy: Callable[..., object]) -> None:
    path = write_policy(
        f"""
        [defaults]
        non_pstn = "connect"
        [accounts.{MAIN}]
        caller_ids = ["+14155550100"]
        """
    )
    guard = Guard(load_policy(path))
    decision = guard.check(DialRequest(MAIN, "client:bob", "client:alice"))
    assert decision.action is Action.CONNECT and decision.target.identity == "bob"
    assert decision.checks == ("emergency", "account", "destination")  # PSTN-only checks skip
