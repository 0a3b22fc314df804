"""TwiML response builders (twiml.responses)."""

from __future__ import annotations

import twiml

from ..conftest import parse_twiml


def test_dial_number() -> None:
    body = twiml.dial_number("+14155550123", caller_id="+14155550100")
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = parse_twiml(body.encode())
    (dial,) = list(root)
    assert dial.tag == "Dial" and dial.get("callerId") == "+14155550100"
    (number,) = list(dial)
    assert number.tag == "Number" and number.text == "+14155550123"


def test_dial_without_caller_id_has_no_attribute() -> None:
    dial = parse_twiml(twiml.dial_number("911").encode()).find("Dial")
    assert dial is not None and "callerId" not in dial.attrib


def test_dial_client_and_sip() -> None:
    client = parse_twiml(twiml.dial_client("bob").encode()).find("Dial/Client")
    assert client is not None and client.text == "bob"
    sip = parse_twiml(twiml.dial_sip("sip:bob@example.com;transport=tls").encode()).find("Dial/Sip")
    assert sip is not None and sip.text == "sip:bob@example.com;transport=tls"


def test_reject() -> None:
    root = parse_twiml(twiml.reject().encode())
    (reject,) = list(root)
    assert reject.tag == "Reject" and reject.get("reason") == "rejected"
    assert parse_twiml(twiml.reject("busy").encode()).find("Reject").get("reason") == "busy"


def test_say_and_hangup_escapes_text() -> None:
    root = parse_twiml(twiml.say_and_hangup("Calls to <b> & co are closed.", voice="Polly.Amy", language="en-GB").encode())
    say, hangup = list(root)
    assert say.tag == "Say" and say.text == "Calls to <b> & co are closed."
    assert say.get("voice") == "Polly.Amy" and say.get("language") == "en-GB"
    assert hangup.tag == "Hangup"


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from twiml.responses import render_dial_number  # noqa: E402

xml_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)


@given(
    number=xml_text,
    caller_id=st.one_of(st.none(), xml_text),
    attributes=st.dictionaries(st.sampled_from(["timeout", "time_limit", "record", "action"]), xml_text, max_size=2),
    number_attributes=st.dictionaries(st.sampled_from(["url", "method", "send_digits"]), xml_text, max_size=2),
)
@settings(max_examples=300)
def test_the_memoised_dial_shape_renders_exactly_what_voice_response_renders(
    number: str, caller_id: str | None, attributes: dict[str, str], number_attributes: dict[str, str]
) -> None:
    fast = twiml.dial_number(number, caller_id=caller_id, number_attributes=number_attributes, **attributes)
    assert fast == render_dial_number(number, caller_id=caller_id, number_attributes=number_attributes, **attributes)
