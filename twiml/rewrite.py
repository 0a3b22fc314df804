"""Edit a parsed TwiML document in place: the few changes policy can ask for, and nothing else.

- :func:`join_text` takes the comments and processing instructions out of a target's text,
  so that the answer carries, as one text, the value that was checked;
- :func:`remove_target` takes one target out of its ``<Dial>`` (one ``<Uri>`` out of its
  ``<Sip>``, and the ``<Sip>`` too once it names no URI);
- :func:`attribute_carrier` gives the element that carries a target's own attributes (a number
  written as bare ``<Dial>`` text becomes a ``<Number>`` for that; a ``<Uri>``'s is its
  ``<Sip>``, one for all its URIs), and :func:`whisper`,
  :func:`set_whisper`, :func:`status_callback`, :func:`set_status_callback` read and set the
  ``url`` and ``statusCallback`` attributes on it;
- :func:`failed_dial_redirect`, :func:`say_element` and :func:`reject_element` build the verbs that stand in for a
  ``<Dial>`` left with no target (see :meth:`~twiml.document.TwimlDocument.replace`).

Everything not touched keeps its attributes, text, order and namespace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit
from xml.etree.ElementTree import Element

from .dials import DialTargetNode, NounKind, dial_targets, is_markup, own_text, sip_uris
from .document import TwimlDocument, append_text, local_name, same_namespace

# The nouns that carry their own url and statusCallback attributes.
ATTRIBUTE_CARRIERS = (NounKind.NUMBER, NounKind.SIP, NounKind.TEXT)


@dataclass(frozen=True)
class Callback:
    """A callback an app set on a noun: where, with which HTTP method, for which events."""

    url: str | None
    method: str | None = None
    events: tuple[str, ...] = ()


def _clear_text(element: Element) -> None:
    """Remove the target written as the element's own text, keeping whitespace between children."""
    if element.text and element.text.strip():
        element.text = None
    for child in element:
        if child.tail and child.tail.strip():
            child.tail = None


def _remove_child(parent: Element, child: Element) -> None:
    """Take ``child`` out of ``parent``; the text that followed it stays where it was."""
    index = list(parent).index(child)
    parent.remove(child)
    append_text(parent, index, child.tail)


def _remove_markup(element: Element) -> None:
    for child in list(element):
        if is_markup(child):
            _remove_child(element, child)
        else:
            _remove_markup(child)


def join_text(target: DialTargetNode) -> None:
    """Remove every comment and processing instruction inside the element ``target``'s value is
    written in, joining the text around them: the value Twilio reads is then written as one."""
    _remove_markup(target.written_in)


def remove_target(target: DialTargetNode) -> None:
    """Take ``target`` out of its ``<Dial>``."""
    dial, noun = target.dial, target.noun
    if noun is None:
        _clear_text(dial)
        return
    if target.uri is not None or (target.kind is NounKind.SIP and sip_uris(noun)):
        # One URI of a <Sip> that names several: the <Sip> goes with its last.
        if target.uri is not None:
            _remove_child(noun, target.uri)
        else:
            _clear_text(noun)
        if sip_uris(noun) or own_text(noun):
            return
    _remove_child(dial, noun)


def attribute_carrier(target: DialTargetNode) -> Element:
    """The ``<Number>`` or ``<Sip>`` element of ``target``; a text number is made a ``<Number>`` first.

    Call it once per target: the text is gone after the first call. The ``<Uri>``s of a
    ``<Sip>`` share it: set callguard's attributes on it once, not once per URI.
    """
    if target.kind not in ATTRIBUTE_CARRIERS:
        raise ValueError(f"a <{target.kind.value}> carries no url or statusCallback of its own")
    if target.noun is not None:
        return target.noun
    number = Element(same_namespace(target.dial, "Number"))
    number.text = target.value
    _clear_text(target.dial)
    target.dial.insert(0, number)
    return number


def _events(value: str | None) -> tuple[str, ...]:
    return tuple(value.replace(",", " ").split()) if value else ()


def whisper(noun: Element) -> Callback:
    """The noun's ``url`` (TwiML played to the callee on answer) and its ``method``."""
    return Callback(noun.get("url"), noun.get("method"))


def set_whisper(noun: Element, url: str, *, method: str = "POST") -> None:
    noun.set("url", url)
    noun.set("method", method)


def status_callback(noun: Element) -> Callback:
    """The noun's ``statusCallback``, ``statusCallbackMethod`` and ``statusCallbackEvent``."""
    return Callback(noun.get("statusCallback"), noun.get("statusCallbackMethod"), _events(noun.get("statusCallbackEvent")))


def set_status_callback(noun: Element, url: str, *, method: str = "POST", events: tuple[str, ...] = ()) -> None:
    """Set the status callback; ``events`` empty leaves Twilio's default (the final status only)."""
    noun.set("statusCallback", url)
    noun.set("statusCallbackMethod", method)
    if events:
        noun.set("statusCallbackEvent", " ".join(events))


def has_targets(dial: Element) -> bool:
    return bool(dial_targets(dial))


def with_query(url: str, params: Mapping[str, str]) -> str:
    """``url`` (absolute or relative) with ``params`` added to its query string."""
    parts = urlsplit(url)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def failed_dial_redirect(dial: Element, params: Mapping[str, str]) -> Element | None:
    """``<Redirect>`` to the ``<Dial action>`` with ``params`` (``DialCallStatus=failed`` …), or None.

    Twilio requests a ``<Dial>``'s action when the dial ends and never runs the verbs after it;
    redirecting there keeps that flow for a ``<Dial>`` that is not run at all. The parameters
    ride in the query string: Twilio sends only the call's usual ones with a redirect.
    """
    action = (dial.get("action") or "").strip()
    if not action:
        return None
    redirect = Element(same_namespace(dial, "Redirect"), {"method": dial.get("method") or "POST"})
    redirect.text = with_query(action, params)
    return redirect


def say_element(near: Element, text: str, *, voice: str | None = None, language: str | None = None) -> Element:
    """``<Say>`` in ``near``'s namespace."""
    attributes = {key: value for key, value in (("voice", voice), ("language", language)) if value}
    element = Element(same_namespace(near, "Say"), attributes)
    element.text = text
    return element


def reject_element(near: Element, reason: str = "rejected") -> Element:
    """``<Reject reason=…/>`` in ``near``'s namespace."""
    return Element(same_namespace(near, "Reject"), {"reason": reason})


def is_only_verb(document: TwimlDocument, element: Element) -> bool:
    """Whether ``element`` is the one verb of the document (comments aside)."""
    if document.parent(element) is not document.root:
        return False
    return [child for child in document.root if local_name(child.tag)] == [element]
