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


def test_each_uri_of_a_sip_is_a_target_of_its_own() -> None:
    response = VoiceResponse()
    sip = response.dial(caller_id="+14155550100").sip()
    sip.uri("foo@example.com", priority=1, weight=10, username="u", password="p")
    sip.uri("sip:+442079460000@carrier.example", priority=2)
    sip.headers().header(name="X-Tag", value="sales")
    document = parse_twiml(str(response))
    found = find_dial_targets(document)
    assert [(t.kind, t.value, t.caller_id) for t in found] == [
        (NounKind.SIP, "foo@example.com", "+14155550100"),
        (NounKind.SIP, "sip:+442079460000@carrier.example", "+14155550100"),
    ]
    # The noun is the <Sip>; the element that holds the value is one of its <Uri>s.
    (sip_element,) = document.iter("Sip")
    assert all(t.noun is sip_element for t in found)
    assert [t.uri for t in found] == [child for child in sip_element if child.tag == "Uri"]


def test_the_twilio_python_sip_uri_samples() -> None:
    # twilio-python's own tests (test_twiml.py) for <Dial><Sip><Uri>, as written by its builder.
    assert targets_of(
        '<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Sip><Uri>foo@example.com</Uri></Sip></Dial></Response>'
    ) == [("Sip", "foo@example.com", None)]
    assert targets_of(
        '<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Sip><Uri>foo@example.com</Uri>'
        '<Headers><Header name="foo-bar" value="key" /></Headers></Sip></Dial></Response>'
    ) == [("Sip", "foo@example.com", None)]


def test_a_sip_without_uris_is_its_own_text() -> None:
    (target,) = find_dial_targets(parse_twiml("<Response><Dial><Sip> sip:alice@pbx.example.com </Sip></Dial></Response>"))
    assert (target.value, target.uri) == ("sip:alice@pbx.example.com", None)
    assert targets_of("<Response><Dial><Sip><Headers><Header name='a' value='b'/></Headers></Sip></Dial></Response>") == [("Sip", "", None)]


def test_text_of_a_sip_beside_its_uris_is_checked_too() -> None:
    # Whatever Twilio makes of it, no URI in the document is left unchecked.
    found = find_dial_targets(parse_twiml("<Response><Dial><Sip>sip:a@x.example<Uri>sip:b@y.example</Uri>\n</Sip></Dial></Response>"))
    assert [(t.value, t.uri is None) for t in found] == [("sip:a@x.example", True), ("sip:b@y.example", False)]


def test_a_value_is_every_text_node_of_its_element_joined() -> None:
    """Comments and processing instructions add nothing to a value, and split none: XML readers
    (and Twilio) join the text around them."""
    source = (
        "<Response><Dial>+1415<!-- a -->5550123"
        "<Number>+44207<?x y?>9460000</Number>"
        "<Client><Identity>ag<!-- b -->ent</Identity></Client>"
        "<Sip><Uri>sip:bob@<!-- c -->pbx.example.com</Uri></Sip>"
        "<Conference>stand<!-- d -->up</Conference>"
        "<Queue>support</Queue></Dial></Response>"
    )
    found = find_dial_targets(parse_twiml(source))
    assert [(t.kind.value, t.value, t.split) for t in found] == [
        ("text", "+14155550123", True),
        ("Number", "+442079460000", True),
        ("Client", "agent", True),
        ("Sip", "sip:bob@pbx.example.com", True),
        ("Conference", "standup", True),
        ("Queue", "support", False),
    ]
    # A comment between the nouns splits nothing.
    plain = find_dial_targets(parse_twiml("<Response><Dial><!-- a --><Number>+14155550123</Number><!-- b --></Dial></Response>"))
    assert [(t.value, t.split) for t in plain] == [("+14155550123", False)]
