"""Build the TwiML documents callguard answers with, on top of twilio's ``VoiceResponse``.

This module knows TwiML and nothing else: no Flask, no policy, no decisions. Every function
returns the document as a string with its XML declaration, ready to be an HTTP body.

A webhook answers thousands of ``<Dial><Number>`` documents that differ only in the number.
Rendering each through ``VoiceResponse`` and ElementTree costs ~30 µs, so :func:`dial_number`
renders the document's shape once per caller ID and dial attributes with ``VoiceResponse``
(the source of truth for the markup) and fills the XML-escaped number into that shape;
tests/twiml/test_responses.py checks the two agree on any input.
"""

from __future__ import annotations

import functools
from typing import Literal, Mapping
from xml.sax.saxutils import escape

from twilio.twiml.voice_response import VoiceResponse

RejectReason = Literal["rejected", "busy"]

# Not a character a caller can put in a number: the text nodes we fill are XML-escaped and
# a control character cannot appear in a TwiML document at all.
_SLOT = "\x1f"


def _render(response: VoiceResponse) -> str:
    return str(response)


def render_dial_number(
    number: str, *, caller_id: str | None = None, number_attributes: Mapping[str, object] | None = None, **dial_attributes: object
) -> str:
    """``<Dial callerId="…"><Number …>number</Number></Dial>`` rendered by ``VoiceResponse`` itself."""
    response = VoiceResponse()
    dial = response.dial(caller_id=caller_id, **dial_attributes)
    dial.number(number, **(number_attributes or {}))
    return _render(response)


@functools.lru_cache(maxsize=4096)
def _dial_number_shape(
    caller_id: str | None, number_attributes: tuple[tuple[str, object], ...], attributes: tuple[tuple[str, object], ...]
) -> tuple[str, str] | None:
    rendered = render_dial_number(_SLOT, caller_id=caller_id, number_attributes=dict(number_attributes), **dict(attributes))
    parts = rendered.split(_SLOT)
    return (parts[0], parts[1]) if len(parts) == 2 else None  # None: an attribute holds the slot too


def dial_number(
    number: str, *, caller_id: str | None = None, number_attributes: Mapping[str, object] | None = None, **dial_attributes: object
) -> str:
    """``<Dial callerId="…"><Number url="…">number</Number></Dial>``; ``number_attributes`` go on ``<Number>``."""
    if not number or _SLOT in number:  # ElementTree writes an empty element as <Number />
        return render_dial_number(number, caller_id=caller_id, number_attributes=number_attributes, **dial_attributes)
    try:
        shape = _dial_number_shape(
            caller_id, tuple(sorted((number_attributes or {}).items())), tuple(sorted(dial_attributes.items()))
        )
    except TypeError:  # an unhashable attribute value
        shape = None
    if shape is None:
        return render_dial_number(number, caller_id=caller_id, number_attributes=number_attributes, **dial_attributes)
    return shape[0] + escape(number) + shape[1]


def dial_client(identity: str, *, caller_id: str | None = None, **dial_attributes: object) -> str:
    """``<Dial><Client>identity</Client></Dial>``."""
    response = VoiceResponse()
    dial = response.dial(caller_id=caller_id, **dial_attributes)
    dial.client(identity)
    return _render(response)


def dial_sip(uri: str, *, caller_id: str | None = None, **dial_attributes: object) -> str:
    """``<Dial><Sip>uri</Sip></Dial>``."""
    response = VoiceResponse()
    dial = response.dial(caller_id=caller_id, **dial_attributes)
    dial.sip(uri)
    return _render(response)


def dial_conference(name: str, **dial_attributes: object) -> str:
    """``<Dial><Conference>name</Conference></Dial>``."""
    response = VoiceResponse()
    response.dial(**dial_attributes).conference(name)
    return _render(response)


def dial_queue(name: str, **dial_attributes: object) -> str:
    """``<Dial><Queue>name</Queue></Dial>``."""
    response = VoiceResponse()
    response.dial(**dial_attributes).queue(name)
    return _render(response)


@functools.lru_cache(maxsize=4)
def reject(reason: RejectReason = "rejected") -> str:
    """``<Reject reason="rejected"/>``: the call is refused before it is answered (SIP 603, or 486 for busy)."""
    response = VoiceResponse()
    response.reject(reason=reason)
    return _render(response)


def say_and_hangup(text: str, *, voice: str | None = None, language: str | None = None) -> str:
    """``<Say>text</Say><Hangup/>``."""
    response = VoiceResponse()
    response.say(text, voice=voice, language=language)
    response.hangup()
    return _render(response)


def hangup() -> str:
    """``<Hangup/>``."""
    response = VoiceResponse()
    response.hangup()
    return _render(response)


def empty() -> str:
    """``<Response/>``: nothing to do (a whisper that ends here bridges the call)."""
    return _render(VoiceResponse())


def redirect(url: str, *, method: str = "POST") -> str:
    """``<Redirect method="…">url</Redirect>``."""
    response = VoiceResponse()
    response.redirect(url, method=method)
    return _render(response)


def gather_prompt(
    *,
    action: str,
    say: tuple[str, ...] = (),
    play_url: str | None = None,
    after_play: tuple[str, ...] = (),
    language: str | None = None,
    voice: str | None = None,
    speech_hints: tuple[str, ...] = (),
    timeout: int = 3,
    then_redirect: str | None = None,
    then_method: str = "POST",
) -> str:
    """A one-key ``<Gather>`` (and speech, given hints) around spoken text and/or audio.

    Inside the ``<Gather>``: ``say`` texts, then ``play_url``, then ``after_play`` texts. Without
    input Twilio moves on: to ``<Redirect>then_redirect</Redirect>`` when given, else to the end
    of the document.
    """
    response = VoiceResponse()
    options: dict[str, object] = {"num_digits": 1, "action": action, "method": "POST", "timeout": timeout}
    if speech_hints:
        options.update(input="dtmf speech", hints=", ".join(speech_hints), speech_timeout="auto")
        if language:
            options["language"] = language
    gather = response.gather(**options)
    for text in say:
        gather.say(text, voice=voice, language=language)
    if play_url:
        gather.play(play_url)
    for text in after_play:
        gather.say(text, voice=voice, language=language)
    if then_redirect:
        response.redirect(then_redirect, method=then_method)
    return _render(response)
