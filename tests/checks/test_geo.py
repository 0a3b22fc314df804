"""Dialing permissions per country and risk category (callguard.checks.geo)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from callguard import Action, Decision, DialRequest, Guard, load_policy

from ..conftest import MAIN, TENANT


@pytest.mark.parametrize(
    "to, reason",
    [
        ("+14155550123", None),
        ("+16135550123", None),  # Canada
        ("+442079460000", None),
        ("+4930123456", "geo.low_risk"),  # Germany not enabled for Main
        ("+19005550123", "geo.high_risk_special"),  # US premium rate
        ("+448712345678", None),  # GB special services: enabled for Main
        ("+18765550100", "geo.high_risk_tollfraud"),  # JM: low risk only
        ("+6561234567", "geo.direct_request"),  # SG needs a direct-request grant
        ("+886221234567", None),  # TW has one
        ("+8816123456789", "geo.high_risk_tollfraud"),  # satellite: keyed +881
    ],
)
def test_permissions_of_the_main_account(decide: Callable[..., Decision], to: str, reason: str | None) -> None:
    decision = decide(to)
    if reason is None:
        assert decision.action is Action.CONNECT, decision.sentence
    else:
        assert decision.reasons == (reason,), decision.sentence


def test_sentences_name_country_category_and_account(decide: Callable[..., Decision]) -> None:
    sentence = decide("+18765550100").sentence
    assert "high-risk toll-fraud numbers in Jamaica (JM)" in sentence and "Main" in sentence
    assert "non-geographic code +881" in decide("+8816123456789").sentence


def test_subaccount_overrides_replace_the_parents_entry(decide: Callable[..., Decision]) -> None:
    # The tenant's own GB entry has no high_risk_special, although Main's has.
    assert decide("+448712345678", account=TENANT, from_="+442079460000").reasons == ("geo.high_risk_special",)
    assert decide("+498912345678", account=TENANT, from_="+442079460000").action is Action.CONNECT
    assert decide("+14155550123", account=TENANT, from_="+442079460000").action is Action.CONNECT


def test_non_geographic_permission_keys(write_policy: Callable[..., object]) -> None:
    path = write_policy(
        f"""
        [accounts.{MAIN}]
        caller_ids = ["+14155550100"]
        [accounts.{MAIN}.permissions]
        "+881" = {{ low_risk = true, high_risk_tollfraud = true }}
        """
    )
    decision = Guard(load_policy(path)).check(DialRequest(MAIN, "+8816123456789", "+14155550100"))
    assert decision.action is Action.CONNECT


CUBA_SHARED_COST = "+538071234567"  # a shared-cost number inside +53, which is listed for toll fraud


@pytest.mark.parametrize(
    "grant, reason",
    [
        ("low_risk = true, high_risk_special = true", "geo.high_risk_tollfraud"),
        ("low_risk = true, high_risk_tollfraud = true", "geo.high_risk_special"),
        ("low_risk = true", "geo.high_risk_special"),  # both missing: the first in Twilio's order
        ("low_risk = true, high_risk_special = true, high_risk_tollfraud = true", None),
    ],
)
def test_a_number_in_two_categories_needs_both_enabled(write_policy: Callable[..., object], grant: str, reason: str | None) -> None:
    path = write_policy(
        f"""
        [accounts.{MAIN}]
        caller_ids = ["+14155550100"]
        [accounts.{MAIN}.permissions]
        CU = {{ {grant} }}
        """
    )
    decision = Guard(load_policy(path)).check(DialRequest(MAIN, CUBA_SHARED_COST, "+14155550100"))
    if reason is None:
        assert decision.action is Action.CONNECT, decision.sentence
    else:
        assert decision.reasons == (reason,), decision.sentence
        assert "shared cost, in high-risk special-services numbers and high-risk toll-fraud numbers" in decision.sentence
