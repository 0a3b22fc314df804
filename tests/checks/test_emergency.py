"""Emergency numbers always connect (callguard.checks.emergency)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from callguard import Action, Decision

from ..conftest import MAIN, STRANGER, SUSPENDED


@pytest.mark.parametrize("account", [MAIN, SUSPENDED, STRANGER, None])
def test_emergency_connects_for_any_account(decide: Callable[..., Decision], account: str | None) -> None:
    decision = decide("911", account=account, from_="client:alice")
    assert decision.action is Action.CONNECT
    assert decision.reasons == ("emergency",)
    assert decision.target.digits == "911"
    assert decision.checks == ("emergency",)


def test_emergency_through_a_pbx_outside_line(decide: Callable[..., Decision]) -> None:
    decision = decide("sip:9911@pbx.sip.twilio.com", sip_domain="pbx.sip.twilio.com")
    assert decision.action is Action.CONNECT and decision.target.digits == "911"


def test_the_caller_ids_region_counts_too(decide: Callable[..., Decision]) -> None:
    # A US account calling with its UK caller ID (the tenant's) can reach 999.
    from ..conftest import TENANT

    assert decide("999", account=TENANT, from_="+442079460000").reasons == ("emergency",)
    assert decide("999", account=TENANT, from_="+14155550100").action is Action.REJECT
