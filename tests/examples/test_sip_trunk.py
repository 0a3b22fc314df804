"""examples/sip_trunk.toml: a PBX behind a SIP Domain, checked at /voice/outbound."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from callguard import load_policy

from ..conftest import MAIN, TwilioClient, dial_params, parse_twiml
from .conftest import EXAMPLES

DOMAIN = "pbx.sip.twilio.com"


@pytest.fixture
def pbx(make_app: Callable[..., Any], app_config: dict[str, Any]) -> TwilioClient:
    return TwilioClient(make_app({**app_config, "CALLGUARD_POLICY": str(EXAMPLES / "sip_trunk.toml")}).test_client())


def invite(to_user: str, from_user: str = "201") -> dict[str, str]:
    """What a SIP Domain's webhook carries for an INVITE from the PBX."""
    return dial_params(f"sip:{to_user}@{DOMAIN}", from_=f"sip:{from_user}@{DOMAIN}", SipDomain=DOMAIN, SipDomainSid="SD" + "0" * 32)


def test_the_example_validates() -> None:
    policy = load_policy(EXAMPLES / "sip_trunk.toml")
    assert policy.accounts[MAIN].sip_domains[DOMAIN].outside_line_prefix == "9"


@pytest.mark.parametrize(
    ("dialled", "number"), [("9011442079460018", "+442079460018"), ("914155550123", "+14155550123"), ("94155550123", "+14155550123")]
)
def test_outside_calls_are_normalised_and_dialled_with_the_trunks_caller_id(pbx: TwilioClient, dialled: str, number: str) -> None:
    response = pbx.post("/voice/outbound", invite(dialled))
    assert response.headers["X-Callguard-Decision"] == "connect; reasons=ok"
    dial = parse_twiml(response.data).find("Dial")
    assert dial.get("callerId") == "+14155550101" and dial.find("Number").text == number


def test_refusals_are_announced(pbx: TwilioClient) -> None:
    response = pbx.post("/voice/outbound", invite("919005550123"))
    say, hangup = list(parse_twiml(response.data))
    assert response.headers["X-Callguard-Decision"].startswith("reject; reasons=prefix.blocked")
    assert say.tag == "Say" and hangup.tag == "Hangup"
    assert pbx.post("/voice/outbound", invite("9011493090182000")).headers["X-Callguard-Decision"].startswith("reject; reasons=geo")


def test_emergency_calls_from_the_pbx_connect(pbx: TwilioClient) -> None:
    response = pbx.post("/voice/outbound", invite("9911"))
    assert response.headers["X-Callguard-Decision"] == "connect; reasons=emergency"
    assert parse_twiml(response.data).find("Dial/Number").text == "911"


def test_extensions_are_sip_targets_refused_by_non_pstn(pbx: TwilioClient) -> None:
    response = pbx.post("/voice/outbound", invite("201", from_user="202"))
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=destination.non_pstn"
    say, hangup = list(parse_twiml(response.data))
    assert say.tag == "Say" and hangup.tag == "Hangup"


def test_extensions_connect_when_non_pstn_connects(make_app: Callable[..., Any], app_config: dict[str, Any], tmp_path: Path) -> None:
    text = (EXAMPLES / "sip_trunk.toml").read_text(encoding="utf-8").replace('non_pstn = "reject"', 'non_pstn = "connect"')
    assert 'non_pstn = "connect"' in text
    path = tmp_path / "sip_trunk_connect.toml"
    path.write_text(text, encoding="utf-8")
    pbx = TwilioClient(make_app({**app_config, "CALLGUARD_POLICY": str(path)}).test_client())
    response = pbx.post("/voice/outbound", invite("201", from_user="202"))
    assert response.headers["X-Callguard-Decision"] == "connect; reasons=ok"
    dial = parse_twiml(response.data).find("Dial")
    assert dial.get("callerId") == "+14155550101" and dial.find("Sip").text == f"sip:201@{DOMAIN}"
    # Outside calls from the same trunk are still numbers.
    assert pbx.post("/voice/outbound", invite("914155550123")).headers["X-Callguard-Decision"] == "connect; reasons=ok"
