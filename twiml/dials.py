"""Find every target a TwiML document dials, with the caller ID that applies to it.

A ``<Dial>`` connects the call to each of its nouns — ``<Number>``, ``<Sip>``, ``<Client>``,
``<Conference>``, ``<Queue>`` — or to a number written as the ``<Dial>``'s own text. Every
``<Dial>`` in the document counts, wherever it is nested, so that no target hides from the
checks in a place Twilio would not expect it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple
from xml.etree.ElementTree import Element

from .document import TwimlDocument, local_name


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
    """

    dial: Element
    noun: Element | None
    kind: NounKind
    value: str
    caller_id: str | None

    @property
    def described(self) -> DescribedTarget:
        return DescribedTarget(self.kind, self.value, self.caller_id)


def dial_text(dial: Element) -> str:
    """The ``<Dial>``'s own text, between and around its nouns, without surrounding whitespace."""
    parts = [dial.text or ""] + [child.tail or "" for child in dial]
    return "".join(parts).strip()


def _client_identity(noun: Element) -> str:
    for child in noun:
        if local_name(child.tag) == "Identity":
            return (child.text or "").strip()
    return (noun.text or "").strip()


def dial_targets(dial: Element) -> list[DialTargetNode]:
    """The targets of one ``<Dial>``, in document order."""
    caller_id = dial.get("callerId")
    targets: list[DialTargetNode] = []
    text = dial_text(dial)
    if text:
        targets.append(DialTargetNode(dial, None, NounKind.TEXT, text, caller_id))
    for child in dial:
        kind = NOUNS.get(local_name(child.tag))
        if kind is None:
            continue
        value = _client_identity(child) if kind is NounKind.CLIENT else (child.text or "").strip()
        targets.append(DialTargetNode(dial, child, kind, value, caller_id))
    return targets


def find_dial_targets(document: TwimlDocument) -> list[DialTargetNode]:
    """Every target of every ``<Dial>`` in the document, in document order."""
    return [target for dial in document.iter("Dial") for target in dial_targets(dial)]
