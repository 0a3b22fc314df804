"""Caller-ID validity and ownership (callguard.checks.callerid)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from callguard import Action, Decision

from ..conftest import MAIN, TENANT


def test_from_is_the_caller_id(decide: Callable[..., Decision]) -> None:
    decision = decide("+14155550123", from_="+14155550101")
    assert decision.action is Action.CONNECT and decision.caller_id == "+14155550101"


def test_explicit_caller_id_wins_over_from(decide: Callable[..., Decision]) -> None:
    decision = decide("+14155550123", from_="client:alice", caller_id="+14155550101")
    assert decision.caller_id == "+14155550101"


@pytest.mark.parametrize(
    "from_, caller_id, reason",
    [
        ("+14155550177", None, "callerid.not_owned"),
        ("+14155550100", "+1415555", "callerid.invalid"),
        ("+14155550100", "client:alice", "callerid.invalid"),
        ("+14155550100", "+14155550177", "callerid.not_owned"),
    ],
)
def test_refused_caller_ids(decide: Callable[..., Decision], from_: str, caller_id: str | None, reason: str) -> None:
    fields = {"caller_id": caller_id} if caller_id else {}
    decision = decide("+14155550123", from_=from_, **fields)
    assert decision.reasons == (reason,)
    assert decision.caller_id is None if reason == "callerid.invalid" else True


def test_clients_and_extensions_fall_back_to_the_default(decide: Callable[..., Decision]) -> None:
    assert decide("+14155550123", from_="client:alice").caller_id == "+14155550100"
    assert decide("+14155550123", from_="sip:201@pbx.sip.twilio.com").caller_id == "+14155550100"
    assert decide("+14155550123", from_="anonymous").caller_id == "+14155550100"
    assert decide("+14155550123", from_=None).caller_id == "+14155550100"


def test_a_sip_domain_default_wins_over_the_account_default(decide: Callable[..., Decision]) -> None:
    decision = decide("sip:914155550123@pbx.sip.twilio.com", from_="sip:201@pbx.sip.twilio.com", sip_domain="pbx.sip.twilio.com")
    assert decision.caller_id == "+14155550101"
    assert decision.e164 == "+14155550123"


def test_parents_caller_ids_are_usable_by_children(decide: Callable[..., Decision]) -> None:
    assert decide("+14155550123", account=TENANT, from_="+14155550101").action is Action.CONNECT
    assert decide("+14155550123", account=MAIN, from_="+442079460000").reasons == ("callerid.not_owned",)


def test_caller_id_equal_to_destination(decide: Callable[..., Decision]) -> None:
    assert decide("+14155550100", from_="+14155550100").reasons == ("callerid.equals_destination",)


def test_no_caller_id_at_all(write_policy: Callable[..., object]) -> None:
    from callguard import DialRequest, Guard, load_policy

    path = write_policy(f"[accounts.{MAIN}]\npermissions.US = {{ low_risk = true }}\n")
    decision = Guard(load_policy(path)).check(DialRequest(MAIN, "+14155550123", "client:alice"))
    assert decision.reasons == ("callerid.missing",)
