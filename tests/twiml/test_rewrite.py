"""Editing a parsed TwiML document (twiml.rewrite)."""

from __future__ import annotations

import pytest

from twiml.dials import find_dial_targets
from twiml.document import XML_DECLARATION, parse_twiml
from twiml.rewrite import (
    Callback,
    attribute_carrier,
    failed_dial_redirect,
    has_targets,
    is_only_verb,
    join_text,
    reject_element,
    remove_target,
    say_element,
    set_status_callback,
    set_whisper,
    status_callback,
    whisper,
    with_query,
)


def test_removing_targets_keeps_everything_else() -> None:
    document = parse_twiml(
        '<Response><Dial callerId="+14155550100">\n <Number>+14155550123</Number>\n <Client>bob</Client>\n</Dial></Response>'
    )
    number, client = find_dial_targets(document)
    remove_target(number)
    assert document.to_xml() == XML_DECLARATION + '<Response><Dial callerId="+14155550100">\n \n <Client>bob</Client>\n</Dial></Response>'
    assert has_targets(client.dial)
    remove_target(client)
    assert not has_targets(client.dial)


def test_removing_a_text_number_keeps_the_nouns() -> None:
    document = parse_twiml("<Response><Dial>+14155550123<Number>+442079460000</Number></Dial></Response>")
    text, number = find_dial_targets(document)
    remove_target(text)
    assert document.to_xml() == XML_DECLARATION + "<Response><Dial><Number>+442079460000</Number></Dial></Response>"


def test_a_text_number_becomes_a_number_to_carry_attributes() -> None:
    document = parse_twiml('<Response xmlns="urn:t"><Dial timeout="10"> +14155550123 </Dial></Response>')
    (target,) = find_dial_targets(document)
    noun = attribute_carrier(target)
    set_status_callback(noun, "https://cg.example.com/voice/status")
    assert document.to_xml() == XML_DECLARATION + (
        '<Response xmlns="urn:t"><Dial timeout="10"><Number statusCallback="https://cg.example.com/voice/status" '
        'statusCallbackMethod="POST">+14155550123</Number></Dial></Response>'
    )


def test_clients_conferences_and_queues_carry_no_callbacks() -> None:
    (target,) = find_dial_targets(parse_twiml("<Response><Dial><Conference>room</Conference></Dial></Response>"))
    with pytest.raises(ValueError):
        attribute_carrier(target)


def test_reading_and_setting_callbacks() -> None:
    document = parse_twiml(
        '<Response><Dial><Number url="/whisper" method="GET" statusCallback="/status" statusCallbackEvent="ringing, answered" '
        'statusCallbackMethod="GET">+14155550123</Number></Dial></Response>'
    )
    noun = attribute_carrier(find_dial_targets(document)[0])
    assert whisper(noun) == Callback("/whisper", "GET")
    assert status_callback(noun) == Callback("/status", "GET", ("ringing", "answered"))
    set_whisper(noun, "https://cg/voice/disclosure")
    set_status_callback(noun, "https://cg/voice/status", events=("ringing", "answered", "completed"))
    # Attributes the noun had keep their place; only their values change.
    assert list(noun.attrib.items()) == [
        ("url", "https://cg/voice/disclosure"),
        ("method", "POST"),
        ("statusCallback", "https://cg/voice/status"),
        ("statusCallbackEvent", "ringing answered completed"),
        ("statusCallbackMethod", "POST"),
    ]


def test_a_failed_dial_redirects_to_its_action() -> None:
    dial = parse_twiml('<Response><Dial action="/after-dial?lang=en" method="GET"><Number>1</Number></Dial></Response>').root[0]
    redirect = failed_dial_redirect(dial, {"DialCallStatus": "failed"})
    assert redirect is not None and redirect.tag == "Redirect"
    assert redirect.get("method") == "GET" and redirect.text == "/after-dial?lang=en&DialCallStatus=failed"
    assert failed_dial_redirect(parse_twiml("<Response><Dial>1</Dial></Response>").root[0], {}) is None
    assert with_query("https://a.example/x#frag", {"b": "c d"}) == "https://a.example/x?b=c+d#frag"


def test_verbs_for_an_emptied_dial_take_its_namespace() -> None:
    document = parse_twiml('<Response xmlns="urn:t"><Dial>1</Dial></Response>')
    dial = document.root[0]
    assert is_only_verb(document, dial)
    document.replace(dial, [say_element(dial, "Sorry.", voice="Polly.Amy"), reject_element(dial)])
    assert document.to_xml() == (
        XML_DECLARATION + '<Response xmlns="urn:t"><Say voice="Polly.Amy">Sorry.</Say><Reject reason="rejected" /></Response>'
    )


def test_is_only_verb_ignores_comments() -> None:
    document = parse_twiml("<Response><!-- x --><Dial>1</Dial></Response>")
    assert is_only_verb(document, document.root[1])
    document = parse_twiml("<Response><Say>hi</Say><Dial>1</Dial></Response>")
    assert not is_only_verb(document, document.root[1])


SIP_URIS = (
    "<Response><Dial>\n <Sip username=\"u\">\n  <Uri priority=\"1\">sip:a@x.example</Uri>\n  <Uri priority=\"2\">b@y.example</Uri>\n"
    '  <Headers><Header name="X-Tag" value="t" /></Headers>\n </Sip>\n <Client>bob</Client>\n</Dial></Response>'
)


def test_removing_one_uri_keeps_its_sip_and_the_other_uris() -> None:
    document = parse_twiml(SIP_URIS)
    first, second, client = find_dial_targets(document)
    remove_target(first)
    assert document.to_xml() == XML_DECLARATION + (
        '<Response><Dial>\n <Sip username="u">\n  \n  <Uri priority="2">b@y.example</Uri>\n'
        '  <Headers><Header name="X-Tag" value="t" /></Headers>\n </Sip>\n <Client>bob</Client>\n</Dial></Response>'
    )
    assert [t.value for t in find_dial_targets(document)] == ["b@y.example", "bob"]


def test_a_sip_left_without_uris_is_removed() -> None:
    document = parse_twiml(SIP_URIS)
    first, second, client = find_dial_targets(document)
    remove_target(second)
    remove_target(first)
    assert document.to_xml() == XML_DECLARATION + "<Response><Dial>\n \n <Client>bob</Client>\n</Dial></Response>"
    assert has_targets(client.dial)
    remove_target(client)
    assert not has_targets(client.dial)


def test_a_sip_keeps_its_uris_when_its_own_text_is_removed() -> None:
    document = parse_twiml("<Response><Dial><Sip>sip:a@x.example<Uri>sip:b@y.example</Uri> </Sip></Dial></Response>")
    text, uri = find_dial_targets(document)
    remove_target(text)
    assert document.to_xml() == XML_DECLARATION + "<Response><Dial><Sip><Uri>sip:b@y.example</Uri> </Sip></Dial></Response>"
    remove_target(uri)
    assert document.to_xml() == XML_DECLARATION + "<Response><Dial /></Response>"


def test_the_sip_carries_the_attributes_of_its_uris() -> None:
    document = parse_twiml(SIP_URIS)
    first, second, _ = find_dial_targets(document)
    (sip,) = document.iter("Sip")
    assert attribute_carrier(first) is sip and attribute_carrier(second) is sip


def test_joining_a_targets_text_takes_out_only_the_markup_inside_it() -> None:
    document = parse_twiml(
        "<Response><!-- a --><Dial>+1415<!-- b -->5550123<Number>+44<?x y?>207<!-- c -->9460000</Number>"
        "<!-- d --><Client>bob</Client></Dial></Response>"
    )
    text, number, client = find_dial_targets(document)
    join_text(number)
    assert document.to_xml() == XML_DECLARATION + (
        "<Response><!-- a --><Dial>+1415<!-- b -->5550123<Number>+442079460000</Number><!-- d --><Client>bob</Client></Dial></Response>"
    )
    join_text(text)  # the <Dial>'s own text: the markup among its children goes
    assert document.to_xml() == XML_DECLARATION + (
        "<Response><!-- a --><Dial>+14155550123<Number>+442079460000</Number><Client>bob</Client></Dial></Response>"
    )
    assert [t.value for t in find_dial_targets(document)] == ["+14155550123", "+442079460000", "bob"]
