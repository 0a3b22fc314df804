"""Finding every dial target in a TwiML document (twiml.dials)."""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from twiml.dials import NounKind, find_dial_targets
from twiml.document import parse_twiml


def targets_of(source: str) -> list[tuple[str, str, str | None]]:
    return [(t.kind.value, t.value, t.caller_id) for t in find_dial_targets(parse_twiml(source))]


def test_every_noun_with_the_caller_id_of_its_dial() -> None:
    response = VoiceResponse()
    response.say("Connecting you")
    dial = response.dial(caller_id="+14155550100", action="/after")
    dial.number(" +1 415 555 0123 ", url="https://app.example.com/whisper")
    dial.sip("sip:alice@pbx.example.com;transport=tls")
    dial.client("bob")
    second = response.dial()
    second.conference("standup")
    second.queue("support")
    assert targets_of(str(response)) == [
        ("Number", "+1 415 555 0123", "+14155550100"),
        ("Sip", "sip:alice@pbx.example.com;transport=tls", "+14155550100"),
        ("Client", "bob", "+14155550100"),
        ("Conference", "standup", None),
        ("Queue", "support", None),
    ]


def test_a_number_written_as_the_dial_text() -> None:
    assert targets_of('<Response><Dial callerId="+14155550100">\n  415-555-0123\n</Dial></Response>') == [
        ("text", "415-555-0123", "+14155550100")
    ]
    # Text around nouns is a target too: Twilio must not get a number no check saw.
    assert targets_of("<Response><Dial>+1415<Number>+442079460000</Number>5550123</Dial></Response>") == [
        ("text", "+14155550123", None),
        ("Number", "+442079460000", None),
    ]


def test_client_identity_element_and_parameters() -> None:
    response = VoiceResponse()
    client = response.dial().client()
    client.identity("agent-7")
    client.parameter(name="ticket", value="42")
    assert targets_of(str(response)) == [("Client", "agent-7", None)]


def test_dials_anywhere_and_in_any_namespace_are_found() -> None:
    source = (
        '<Response xmlns="urn:twiml"><Gather><Dial><Number>+14155550123</Number></Dial></Gather>'
        "<Dial><Sip>sip:+442079460000@carrier.example</Sip></Dial></Response>"
    )
    found = find_dial_targets(parse_twiml(source))
    assert [(t.kind, t.value) for t in found] == [(NounKind.NUMBER, "+14155550123"), (NounKind.SIP, "sip:+442079460000@carrier.example")]


def test_documents_without_dials_have_no_targets() -> None:
    response = VoiceResponse()
    response.say("Hello")
    response.enqueue("support")
    response.redirect("/next")
    assert targets_of(str(response)) == []
    assert targets_of("<Response><Dial>   </Dial></Response>") == []
