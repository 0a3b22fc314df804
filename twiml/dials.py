"""Find every target a TwiML document dials, with the caller ID that applies to it.

A ``<Dial>`` connects the call to each of its nouns — ``<Number>``, ``<Sip>``, ``<Client>``,
``<Conference>``, ``<Queue>`` — or to a number written as the ``<Dial>``'s own text. A ``<Sip>``
names its URI as its text, or as ``<Uri>`` children (twilio's ``Sip.uri()``: several, tried in
priority order), each of them a target of its own. Every ``<Dial>`` in the document counts,
wherever it is nested, so that no target hides from the checks in a place Twilio would not
expect it.

A target is the text Twilio reads: every text node inside its element, joined, as any XML
reader joins the text around a comment or processing instruction. ``<Number>+4930123456<!-- x
-->78</Number>`` dials ``+493012345678``, and that is what is checked; a target whose text is
split so is marked :attr:`DialTargetNode.split`, for the rewrite to join (what is checked is
then exactly what the answer carries).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple
from xml.etree.ElementTree import Element

from .document import TwimlDocument, local_name
from .errors import TwimlError


class NounKind(enum.Enum):
    """What a dial target is written as."""

    NUMBER = "Number"
    SIP = "Sip"
    CLIENT = "Client"
    CONFERENCE = "Conference"
    QUEUE = "Queue"
    TEXT = "text"  # a number written as the <Dial>'s own text: <Dial>+14155550123</Dial>


NOUNS = {kind.value: kind for kind in NounKind if kind is not NounKind.TEXT}


class DescribedTarget(NamedTuple):
    """What a dial target says, apart from the elements it is written in."""

    kind: NounKind
    value: str
    caller_id: str | None


@dataclass(frozen=True, eq=False)
class DialTargetNode:
    """One target of one ``<Dial>``: the element it is written as (None for text) and what it names.

    ``value`` is the noun's text as Twilio reads it (surrounding whitespace removed; for a
    ``<Client>``, its ``<Identity>`` if it has one); ``caller_id`` is the ``<Dial callerId>``.
    ``uri`` is the ``<Uri>`` child of a ``<Sip>`` noun whose text is ``value``, or None where
    the value is the noun's own text; the noun (the ``<Sip>``) is still what carries the
    target's attributes, shared by all its URIs. ``written_in`` is the element the value was
    read from (the ``<Dial>``, the noun, its ``<Uri>`` or ``<Identity>``); ``split`` says that a
    comment or processing instruction stands in that text.
    """

    dial: Element
    noun: Element | None
    kind: NounKind
    value: str
    caller_id: str | None
    written_in: Element
    uri: Element | None = None
    split: bool = False

    @property
    def described(self) -> DescribedTarget:
        return DescribedTarget(self.kind, self.value, self.caller_id)


def own_text(element: Element) -> str:
    """The element's own text, between and around its children, without surrounding whitespace."""
    parts = [element.text or ""] + [child.tail or "" for child in element]
    return "".join(parts).strip()


def all_text(element: Element) -> str:
    """Every text node inside the element, joined (comments and processing instructions add
    nothing), without surrounding whitespace: what Twilio reads as a noun's value."""
    return "".join(_text_nodes(element)).strip()


def _text_nodes(element: Element) -> Iterator[str]:
    # Not Element.itertext(): the C ElementTree's yields a comment's own text as well.
    if element.text and not is_markup(element):
        yield element.text
    for child in element:
        yield from _text_nodes(child)
        if child.tail:
            yield child.tail


def is_markup(node: Element) -> bool:
    """Whether ``node`` is a comment or a processing instruction, not an element."""
    return not isinstance(node.tag, str)


def has_markup(element: Element, *, deep: bool) -> bool:
    """Whether a comment or processing instruction is a child of ``element`` (``deep``: anywhere inside it)."""
    return any(is_markup(node) for node in (element.iter() if deep else element))


def sip_uris(sip: Element) -> list[Element]:
    """The ``<Uri>`` children of a ``<Sip>``."""
    return [child for child in sip if local_name(child.tag) == "Uri"]


def _text_element(kind: NounKind, noun: Element) -> Element:
    """The element a noun's value is written in: a ``<Client>``'s ``<Identity>`` if it has one."""
    if kind is NounKind.CLIENT:
        for child in noun:
            if local_name(child.tag) == "Identity":
                return child
    return noun


def dial_targets(dial: Element) -> list[DialTargetNode]:
    """The targets of one ``<Dial>``, in document order."""
    caller_id = dial.get("callerId")
    targets: list[DialTargetNode] = []
    text = own_text(dial)  # a number written as the <Dial>'s text
    if text:
        targets.append(DialTargetNode(dial, None, NounKind.TEXT, text, caller_id, dial, split=has_markup(dial, deep=False)))
    for child in dial:
        kind = NOUNS.get(local_name(child.tag))
        if kind is None:
            continue
        if kind is NounKind.SIP and (uris := sip_uris(child)):
            _add_sip_uris(targets, dial, child, uris, caller_id)
            continue
        written_in = _text_element(kind, child)
        _no_dial_inside(written_in)
        split = has_markup(written_in, deep=True)
        targets.append(DialTargetNode(dial, child, kind, all_text(written_in), caller_id, written_in, split=split))
    return targets


def _add_sip_uris(targets: list[DialTargetNode], dial: Element, sip: Element, uris: list[Element], caller_id: str | None) -> None:
    # <Headers> and the like name no target; text of the <Sip>'s own beside its <Uri>s is
    # checked too, whatever Twilio makes of it (a check too many costs nothing).
    text = own_text(sip)
    if text:
        targets.append(DialTargetNode(dial, sip, NounKind.SIP, text, caller_id, sip, split=has_markup(sip, deep=False)))
    for uri in uris:
        _no_dial_inside(uri)
        targets.append(DialTargetNode(dial, sip, NounKind.SIP, all_text(uri), caller_id, uri, uri=uri, split=has_markup(uri, deep=True)))


def _no_dial_inside(written_in: Element) -> None:
    """A ``<Dial>`` written inside a target's text is no TwiML, and would make the document's
    targets depend on one another: rewriting the inner one would change the text of the outer
    one after it was decided (found by fuzzing). Such a document is refused as unreadable."""
    for element in written_in.iter():
        if element is not written_in and local_name(element.tag) == "Dial":
            raise TwimlError(f"a <Dial> is written inside the text of a <{local_name(written_in.tag)}>")


def find_dial_targets(document: TwimlDocument) -> list[DialTargetNode]:
    """Every target of every ``<Dial>`` in the document, in document order."""
    return [target for dial in document.iter("Dial") for target in dial_targets(dial)]
