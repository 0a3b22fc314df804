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


# -- every builder writes what twilio's VoiceResponse writes ----------------------------------------

from twilio.twiml.voice_response import VoiceResponse  # noqa: E402

language = st.sampled_from(["en-US", "en-GB", "fr-FR"])


@given(number=xml_text, caller_id=st.one_of(st.none(), xml_text), timeout=st.one_of(st.none(), st.integers(0, 600)),
       record=st.one_of(st.none(), st.booleans()), url=st.one_of(st.none(), xml_text))
@settings(max_examples=200)
def test_render_dial_number_is_voice_responses(
    number: str, caller_id: str | None, timeout: int | None, record: bool | None, url: str | None
) -> None:
    response = VoiceResponse()
    response.dial(caller_id=caller_id, timeout=timeout, record=record).number(number, url=url)
    assert render_dial_number(number, caller_id=caller_id, timeout=timeout, record=record, number_attributes={"url": url}) == str(response)


@given(value=xml_text, caller_id=st.one_of(st.none(), xml_text))
@settings(max_examples=150)
def test_the_other_dial_nouns_are_voice_responses(value: str, caller_id: str | None) -> None:
    for build, noun in ((twiml.dial_client, "client"), (twiml.dial_sip, "sip")):
        response = VoiceResponse()
        getattr(response.dial(caller_id=caller_id), noun)(value)
        assert build(value, caller_id=caller_id) == str(response)
    for build, noun in ((twiml.dial_conference, "conference"), (twiml.dial_queue, "queue")):
        response = VoiceResponse()
        getattr(response.dial(), noun)(value)
        assert build(value) == str(response)


@given(text=xml_text, voice=st.one_of(st.none(), xml_text), lang=st.one_of(st.none(), language), url=xml_text,
       method=st.sampled_from(["GET", "POST"]))
@settings(max_examples=150)
def test_the_verbs_are_voice_responses(text: str, voice: str | None, lang: str | None, url: str, method: str) -> None:
    expected = VoiceResponse()
    expected.say(text, voice=voice, language=lang)
    expected.hangup()
    assert twiml.say_and_hangup(text, voice=voice, language=lang) == str(expected)
    expected = VoiceResponse()
    expected.redirect(url, method=method)
    assert twiml.redirect(url, method=method) == str(expected)
    expected = VoiceResponse()
    expected.hangup()
    assert twiml.hangup() == str(expected)
    assert twiml.empty() == str(VoiceResponse())
    for reason in ("rejected", "busy"):
        expected = VoiceResponse()
        expected.reject(reason=reason)
        assert twiml.reject(reason) == str(expected)  # type: ignore[arg-type]


@given(
    action=xml_text, say=st.lists(xml_text, max_size=2), play_url=st.one_of(st.none(), xml_text), after=st.lists(xml_text, max_size=2),
    lang=st.one_of(st.none(), language), voice=st.one_of(st.none(), xml_text), hints=st.lists(xml_text, max_size=3),
    then=st.one_of(st.none(), xml_text),
)
@settings(max_examples=150)
def test_the_gather_prompt_is_voice_responses(
    action: str,
    say: list[str],
    play_url: str | None,
    after: list[str],
    lang: str | None,
    voice: str | None,
    hints: list[str],
    then: str | None,
) -> None:
    expected = VoiceResponse()
    options: dict[str, object] = {"num_digits": 1, "action": action, "method": "POST", "timeout": 3}
    if hints:
        options.update(input="dtmf speech", hints=", ".join(hints), speech_timeout="auto")
        if lang:
            options["language"] = lang
    gather = expected.gather(**options)
    for text in say:
        gather.say(text, voice=voice, language=lang)
    if play_url:
        gather.play(play_url)
    for text in after:
        gather.say(text, voice=voice, language=lang)
    if then:
        expected.redirect(then, method="POST")
    built = twiml.gather_prompt(
        action=action, say=tuple(say), play_url=play_url, after_play=tuple(after), language=lang, voice=voice,
        speech_hints=tuple(hints), then_redirect=then,
    )
    assert built == str(expected)
