"""Build the TwiML documents callguard answers with.

This module knows TwiML and nothing else: no Flask, no policy, no decisions, no twilio package.
Every function returns the document as a string with its XML declaration, ready to be an HTTP
body, written exactly as twilio's ``VoiceResponse`` writes it (attributes named in camelCase
from the keywords, sorted, booleans as ``true``/``false``); tests/twiml/test_responses.py holds
each builder equal to ``VoiceResponse``'s output.

A webhook answers thousands of ``<Dial><Number>`` documents that differ only in the number, so
:func:`dial_number` renders the document's shape once per caller ID and dial attributes and
fills the XML-escaped number into it (a fast path; the test holds it equal to the full render).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Literal
from xml.etree.ElementTree import Element, SubElement, tostring
from xml.sax.saxutils import escape

RejectReason = Literal["rejected", "busy"]

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

# Not a character a caller can put in a number: the text nodes we fill are XML-escaped and
# a control character cannot appear in a TwiML document at all.
_SLOT = "\x1f"


def _attribute_name(keyword: str) -> str:
    """``caller_id`` -> ``callerId``: a TwiML attribute from a Python keyword."""
    first, *rest = keyword.split("_")
    return first + "".join(part.title() for part in rest)


def _verb(parent: Element | None, name: str, text: str | None = None, /, **attributes: object) -> Element:
    """``<name …>text</name>``, under ``parent`` when given; attributes that are None are left out."""
    values = {_attribute_name(key): value for key, value in attributes.items() if value is not None}
    element = Element(name) if parent is None else SubElement(parent, name)
    for key in sorted(values):
        value = values[key]
        element.set(key, str(value).lower() if isinstance(value, bool) else str(value))
    if text:
        element.text = text
    return element


def _document(response: Element) -> str:
    return XML_DECLARATION + tostring(response, encoding="unicode")


def _dial(noun: str, value: str, dial_attributes: Mapping[str, object], noun_attributes: Mapping[str, object] | None = None) -> str:
    response = Element("Response")
    dial = _verb(response, "Dial", **dial_attributes)
    _verb(dial, noun, value, **(noun_attributes or {}))
    return _document(response)


def render_dial_number(
    number: str, *, caller_id: str | None = None, number_attributes: Mapping[str, object] | None = None, **dial_attributes: object
) -> str:
    """``<Dial callerId="…"><Number …>number</Number></Dial>``, rendered in full."""
    return _dial("Number", number, {"caller_id": caller_id, **dial_attributes}, number_attributes)


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
    return _dial("Client", identity, {"caller_id": caller_id, **dial_attributes})


def dial_sip(uri: str, *, caller_id: str | None = None, **dial_attributes: object) -> str:
    """``<Dial><Sip>uri</Sip></Dial>``."""
    return _dial("Sip", uri, {"caller_id": caller_id, **dial_attributes})


def dial_conference(name: str, **dial_attributes: object) -> str:
    """``<Dial><Conference>name</Conference></Dial>``."""
    return _dial("Conference", name, dial_attributes)


def dial_queue(name: str, **dial_attributes: object) -> str:
    """``<Dial><Queue>name</Queue></Dial>``."""
    return _dial("Queue", name, dial_attributes)


@functools.lru_cache(maxsize=4)
def reject(reason: RejectReason = "rejected") -> str:
    """``<Reject reason="rejected"/>``: the call is refused before it is answered (SIP 603, or 486 for busy)."""
    response = Element("Response")
    _verb(response, "Reject", reason=reason)
    return _document(response)


def say_and_hangup(text: str, *, voice: str | None = None, language: str | None = None) -> str:
    """``<Say>text</Say><Hangup/>``."""
    response = Element("Response")
    _verb(response, "Say", text, voice=voice, language=language)
    _verb(response, "Hangup")
    return _document(response)


def hangup() -> str:
    """``<Hangup/>``."""
    response = Element("Response")
    _verb(response, "Hangup")
    return _document(response)


def empty() -> str:
    """``<Response/>``: nothing to do (a whisper that ends here bridges the call)."""
    return _document(Element("Response"))


def redirect(url: str, *, method: str = "POST") -> str:
    """``<Redirect method="…">url</Redirect>``."""
    response = Element("Response")
    _verb(response, "Redirect", url, method=method)
    return _document(response)


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
    response = Element("Response")
    options: dict[str, object] = {"num_digits": 1, "action": action, "method": "POST", "timeout": timeout}
    if speech_hints:
        options.update(input="dtmf speech", hints=", ".join(speech_hints), speech_timeout="auto")
        if language:
            options["language"] = language
    gather = _verb(response, "Gather", **options)
    for text in say:
        _verb(gather, "Say", text, voice=voice, language=language)
    if play_url:
        _verb(gather, "Play", play_url)
    for text in after_play:
        _verb(gather, "Say", text, voice=voice, language=language)
    if then_redirect:
        _verb(response, "Redirect", then_redirect, method=then_method)
    return _document(response)
