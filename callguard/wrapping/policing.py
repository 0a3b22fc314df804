"""Police a TwiML document an app wrote: decide every dial target, then rewrite the document.

This is the part the three ways in (``@guard.protect``, :class:`GuardMiddleware`, the upstream
proxy) share. It knows TwiML and the engine, not HTTP: the caller hands it the document and
what it knows of the request the document answers.

For each target of each ``<Dial>`` the engine decides, with a :class:`DialRequest` built from
the request's ``AccountSid`` and ``From``, the target, and the ``<Dial callerId>``; so every
check applies unchanged and every decision is audited as usual. Then:

- a refused target is removed (each ``<Uri>`` of a ``<Sip>`` is a target of its own; a ``<Sip>``
  left with none goes too);
- a target to be disclosed gets callguard's disclosure whisper as its ``url`` (going on to the
  app's own whisper afterwards, if it had one);
- when the account has traffic limits, a connected number gets callguard's ``statusCallback``
  (forwarding to the app's own, if it had one);
- the ``<Uri>``s of a ``<Sip>`` share its attributes: callguard's are written on it once;
- a ``<Dial>`` left with no target is replaced by the policy's refusal, keeping the app's flow:
  a ``<Dial action>`` still learns that the dial failed (``DialCallStatus=failed``), and without
  an action the verbs after it still run, as they would after a failed dial.

What is checked is what is dialled: a target is the text Twilio reads (every text node of its
element, joined), and where a comment or processing instruction splits that text the rewrite
takes it out, so that the answer carries exactly the value decided.

A document with nothing to change goes back byte for byte as the app wrote it. Apps answer
the same few documents again and again: what a document dials is read once per distinct
document, and its rewrite made once per distinct document and set of decisions' effects
(LRUs of documents up to 4 KB); every target is still decided, counted and audited per call.

What it makes per call (:class:`WrappedCall`, :class:`PolicedTarget`, :class:`PolicedDocument`)
are slotted dataclasses that nothing changes once made, not frozen ones: a frozen dataclass sets
each field through ``object.__setattr__``, which costs a wrapped request more than 1 %
(benchmarks/README.md), as it does :class:`~callguard.decision.Decision`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urljoin
from xml.etree.ElementTree import Element

from twiml.dials import DescribedTarget, NounKind, find_dial_targets
from twiml.document import MAX_DOCUMENT_BYTES, TwimlDocument, parse_twiml
from twiml.rewrite import (
    ATTRIBUTE_CARRIERS,
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
)

from ..decision import Action, Decision, DialRequest
from ..engine import Guard
from ..numbers.dialstring import TargetKind
from ..policy.model import Defaults, RejectStyle
from ..rendering import refusal_notice
from .chaining import callback_events, chained_disclosure_url, chained_status_callback_url

NO_DIAL = "no_dial"

# How each noun is written as a dial string for the engine.
_SCHEMES = {NounKind.CLIENT: "client:", NounKind.CONFERENCE: "conference:", NounKind.QUEUE: "queue:"}


@dataclass(slots=True)
class WrappedCall:
    """What policing needs of the webhook request the app answered."""

    account_sid: str | None
    from_: str | None
    call_sid: str | None = None
    sip_domain: str | None = None
    direction: str | None = None
    campaign: str | None = None
    source: str = "wrapped"

    @classmethod
    def from_params(cls, params: Mapping[str, str], *, campaign: str | None, source: str) -> WrappedCall:
        return cls(
            account_sid=params.get("AccountSid") or None,
            from_=params.get("From") or None,
            call_sid=params.get("CallSid") or None,
            sip_domain=params.get("SipDomain") or None,
            direction=params.get("Direction") or None,
            campaign=campaign,
            source=source,
        )


class Callbacks(NamedTuple):  # a key of the rewrite cache, made per call: a tuple hashes and compares in C
    """How to write callguard's callbacks into the document.

    ``base_url`` is where Twilio reaches callguard; ``document_url`` the URL the document was
    fetched at, which the app's relative callback URLs resolve against; ``key`` the account
    token that tags a chained app URL; ``status`` whether connected numbers report to
    /voice/status (the account has traffic limits).
    """

    base_url: str
    document_url: str
    key: bytes | None
    status: bool


@dataclass(slots=True)
class PolicedTarget:
    target: DescribedTarget
    decision: Decision

    @property
    def kept(self) -> bool:
        return self.decision.action is not Action.REJECT


@dataclass(slots=True)
class PolicedDocument:
    """The document to answer Twilio with, and the decision for every target in it."""

    body: bytes | str
    changed: bool
    targets: list[PolicedTarget]

    def header_value(self) -> str:
        """``X-Callguard-Decision`` for the whole document.

        The action is what happens to the call: ``reject`` when no target is left, ``disclose``
        when a target left plays the disclosure, else ``connect``. The reasons are the distinct
        codes of every target's decision in document order, so a partial refusal reads
        ``connect; reasons=ok,geo.low_risk``; a document without a ``<Dial>`` reads
        ``connect; reasons=no_dial``.
        """
        if not self.targets:
            return f"connect; reasons={NO_DIAL}"
        if len(self.targets) == 1:  # the common document: one number
            decision = self.targets[0].decision
            return f"{decision.action}; reasons={','.join(dict.fromkeys(decision.reasons))}"
        kept = [t for t in self.targets if t.kept]
        if not kept:
            action = Action.REJECT
        elif any(t.decision.action is Action.DISCLOSE for t in kept):
            action = Action.DISCLOSE
        else:
            action = Action.CONNECT
        reasons = dict.fromkeys(reason for t in self.targets for reason in t.decision.reasons)
        return f"{action}; reasons={','.join(reasons)}"


def dial_string(target: DescribedTarget) -> str:
    """The target as the engine reads a ``To``: a number, a SIP URI, ``client:NAME`` …"""
    if target.kind is NounKind.SIP and ":" not in target.value:
        return "sip:" + target.value
    return _SCHEMES.get(target.kind, "") + target.value


def dial_request(target: DescribedTarget, call: WrappedCall) -> DialRequest:
    return DialRequest(
        account_sid=call.account_sid,
        to=dial_string(target),
        from_=call.from_,
        caller_id=target.caller_id or None,
        call_sid=call.call_sid,
        sip_domain=call.sip_domain,
        direction=call.direction,
        source=call.source,
        campaign=call.campaign,
    )


def _absolute(callback: Callback, document_url: str) -> Callback:
    """The app's callback with its URL resolved as Twilio resolves it: against the document's URL.
    One that is no URL at all (``//A]#9``: urllib cannot split it) is one no one could call: the
    app gets none (found by fuzzing)."""
    if not callback.url:
        return callback
    try:
        url = urljoin(document_url, callback.url.strip())
    except ValueError:
        return Callback(None, callback.method, callback.events)
    return Callback(url, callback.method, callback.events)


def _gets_callbacks(target: DescribedTarget, decision: Decision, callbacks: Callbacks) -> bool:
    """Whether a kept target gets callguard's whisper or status callback: a number that is disclosed,
    or connected while the account's traffic is counted."""
    if decision.target.kind is not TargetKind.PSTN or target.kind not in ATTRIBUTE_CARRIERS:
        return False
    return (decision.action is Action.DISCLOSE and decision.campaign is not None) or callbacks.status


class _Edit(NamedTuple):  # part of the rewrite cache's key: a tuple hashes and compares in C
    """What a target's decision does to the document; all the rewrite needs of the decision."""

    kept: bool
    callbacks: bool  # kept, and gets callguard's whisper or status callback
    disclose_campaign: str | None  # the campaign whose disclosure a kept target plays
    status_campaign: str | None  # the campaign its status callback names
    reasons: tuple[str, ...]  # a refused target's, for the app's <Dial action> and the spoken notice
    notice: str

    @classmethod
    def of(cls, target: DescribedTarget, decision: Decision, callbacks: Callbacks) -> _Edit:
        if decision.action is Action.CONNECT and not callbacks.status:
            return _UNTOUCHED
        kept = decision.action is not Action.REJECT
        disclose = decision.action is Action.DISCLOSE and decision.campaign is not None
        return cls(
            kept,
            kept and _gets_callbacks(target, decision, callbacks),
            decision.campaign if disclose else None,
            decision.campaign,
            () if kept else decision.reasons,
            "" if kept else refusal_notice(decision),
        )


_UNTOUCHED = _Edit(True, False, None, None, (), "")  # a target connected as the app wrote it


def _add_callbacks(noun: Element, edit: _Edit, callbacks: Callbacks) -> None:
    if edit.disclose_campaign is not None:
        app = _absolute(whisper(noun), callbacks.document_url)
        set_whisper(noun, chained_disclosure_url(callbacks.base_url, edit.disclose_campaign, app, callbacks.key))
    if callbacks.status:
        app = _absolute(status_callback(noun), callbacks.document_url)
        url = chained_status_callback_url(callbacks.base_url, edit.status_campaign, app, callbacks.key)
        set_status_callback(noun, url, events=callback_events(app))


def _carry_callbacks(carriers: dict[Element, _Edit], carrier: Element, edit: _Edit) -> None:
    """Note that ``carrier`` gets callguard's callbacks for ``edit``.

    The ``<Uri>``s of a ``<Sip>`` share its one ``url`` and ``statusCallback``: they are set once
    (set twice, callguard's own would be chained onto itself), disclosing if any URI must.
    """
    first = carriers.get(carrier)
    if first is None or (first.disclose_campaign is None and edit.disclose_campaign is not None):
        carriers[carrier] = edit


def refusal_verbs(document: TwimlDocument, dial: Element, decision: Decision | _Edit, defaults: Defaults) -> list[Element]:
    """What stands in for a ``<Dial>`` whose every target was refused (``decision``: the first refusal).

    ``announce``: the spoken reason. Then the ``<Dial action>``, told ``DialCallStatus=failed``;
    without an action the verbs after it run as after a failed dial, except that a ``<Dial>``
    that was the whole document becomes ``<Reject>`` under the ``reject`` style, exactly what
    callguard's own webhook answers.
    """
    notice = decision.notice if isinstance(decision, _Edit) else refusal_notice(decision)
    verbs: list[Element] = []
    if defaults.reject_style is RejectStyle.ANNOUNCE:
        verbs.append(say_element(dial, notice, voice=defaults.announce_voice, language=defaults.announce_language))
    redirect = failed_dial_redirect(dial, {"DialCallStatus": "failed", "CallguardReasons": ",".join(decision.reasons)})
    if redirect is not None:
        verbs.append(redirect)
    elif defaults.reject_style is RejectStyle.REJECT and is_only_verb(document, dial):
        verbs.append(reject_element(dial))
    return verbs


# Most apps answer the same few documents again and again: what they dial is read once.
_CACHED_DOCUMENT_BYTES = 4096


class _Read(NamedTuple):
    """What a document dials, and whether a comment or processing instruction splits a target's text."""

    targets: tuple[DescribedTarget, ...]
    split: bool


@functools.lru_cache(maxsize=1024)
def _cached_targets(body: bytes, max_bytes: int) -> _Read:
    return _targets(body, max_bytes)


def _targets(body: bytes, max_bytes: int) -> _Read:
    nodes = find_dial_targets(parse_twiml(body, max_bytes=max_bytes))
    return _Read(tuple(node.described for node in nodes), any(node.split for node in nodes))


def police_twiml(
    body: bytes | str, guard: Guard, call: WrappedCall, callbacks: Callbacks, *, max_bytes: int = MAX_DOCUMENT_BYTES
) -> PolicedDocument:
    """Decide every dial target in ``body`` and rewrite it; raises TwimlError for a document it cannot read."""
    data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    small = len(data) <= _CACHED_DOCUMENT_BYTES
    read = _cached_targets(data, max_bytes) if small else _targets(data, max_bytes)
    policed = [PolicedTarget(target, guard.check(dial_request(target, call))) for target in read.targets]
    edits = tuple(_Edit.of(item.target, item.decision, callbacks) for item in policed)
    if not read.split and all(edit.kept and not edit.callbacks for edit in edits):
        return PolicedDocument(body, False, policed)
    # The same document decided the same way is rewritten the same way: done once per distinct answer.
    defaults = guard.policy.defaults
    rewrite = _cached_rewrite if small else _rewrite
    rewritten = rewrite(data, max_bytes, edits, callbacks, defaults)
    return PolicedDocument(rewritten, True, policed)


@functools.lru_cache(maxsize=1024)
def _cached_rewrite(data: bytes, max_bytes: int, edits: tuple[_Edit, ...], callbacks: Callbacks, defaults: Defaults) -> str:
    return _rewrite(data, max_bytes, edits, callbacks, defaults)


def _rewrite(data: bytes, max_bytes: int, edits: tuple[_Edit, ...], callbacks: Callbacks, defaults: Defaults) -> str:
    # Edit a fresh tree, whose targets are the ones just decided, in order.
    document = parse_twiml(data, max_bytes=max_bytes)
    refused_dials: dict[Element, _Edit] = {}
    carriers: dict[Element, _Edit] = {}
    for node, edit in zip(find_dial_targets(document), edits, strict=True):
        if node.split:
            join_text(node)
        if not edit.kept:
            remove_target(node)
            refused_dials.setdefault(node.dial, edit)
        elif edit.callbacks:
            _carry_callbacks(carriers, attribute_carrier(node), edit)
    for carrier, edit in carriers.items():
        _add_callbacks(carrier, edit, callbacks)
    for dial, edit in refused_dials.items():
        if document.parent(dial) is None:
            continue  # written inside a target that was refused, it went with it (found by fuzzing)
        if not has_targets(dial):
            document.replace(dial, refusal_verbs(document, dial, edit, defaults))
    return document.to_xml()
