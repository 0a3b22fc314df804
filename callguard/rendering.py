"""Turn a :class:`~callguard.decision.Decision` into the TwiML that carries it out."""

from __future__ import annotations

from urllib.parse import urlencode

import twiml

from .decision import Action, Decision
from .numbers.dialstring import TargetKind
from .paths import VOICE_DISCLOSURE, VOICE_STATUS
from .policy.model import Defaults, RejectStyle

# What the caller hears when the policy announces refusals: short, and free of policy detail.
_SPOKEN = {
    "account": "This account cannot place calls at the moment.",
    "destination": "The number you dialled cannot be reached from this line.",
    "prefix": "Calls to this destination are not permitted.",
    "geo": "Calls to this destination are not permitted.",
    "callerid": "This call cannot be placed with the caller ID in use.",
    "fault": "This call cannot be completed at the moment.",
}
_SPOKEN_DEFAULT = "This call cannot be connected."


def refusal_notice(decision: Decision) -> str:
    """The sentence a caller hears for a refusal, without the goodbye (the call may go on)."""
    family = decision.reason.split(".", 1)[0]
    return _SPOKEN.get(family, _SPOKEN_DEFAULT)


def spoken_reason(decision: Decision) -> str:
    return refusal_notice(decision) + " Goodbye."


def disclosure_url(base_url: str, campaign_id: str) -> str:
    """Where Twilio fetches the whisper played to the callee on answer, before the call is bridged."""
    return f"{base_url}{VOICE_DISCLOSURE}?{urlencode({'campaign': campaign_id})}"


def status_callback_url(base_url: str, campaign_id: str | None) -> str:
    """Where Twilio reports the final status of a leg callguard dialled (traffic counters)."""
    return f"{base_url}{VOICE_STATUS}" + (f"?{urlencode({'campaign': campaign_id})}" if campaign_id else "")


def render_decision(decision: Decision, defaults: Defaults, *, base_url: str = "", status_callback: bool = False) -> str:
    """The TwiML document for a decision, following the policy's reject style.

    A disclose dials the number with ``<Number url>`` pointing at ``base_url``/voice/disclosure;
    with ``status_callback`` a dialled number also reports its final status to /voice/status.
    """
    number_attributes: dict[str, str] = {}
    if status_callback and decision.target.kind is TargetKind.PSTN:
        number_attributes.update(status_callback=status_callback_url(base_url, decision.campaign), status_callback_method="POST")
    if decision.action is Action.DISCLOSE and decision.campaign and decision.target.e164:
        number_attributes.update(url=disclosure_url(base_url, decision.campaign), method="POST")
        return twiml.dial_number(decision.target.e164, caller_id=decision.caller_id, number_attributes=number_attributes)
    if decision.action is Action.CONNECT and number_attributes and decision.target.e164:
        return twiml.dial_number(decision.target.e164, caller_id=decision.caller_id, number_attributes=number_attributes)
    if decision.action is Action.CONNECT:
        target = decision.target
        value = target.dial_value
        if target.kind is TargetKind.CLIENT and value:
            return twiml.dial_client(value, caller_id=decision.caller_id)
        if target.kind is TargetKind.SIP and value:
            return twiml.dial_sip(value, caller_id=decision.caller_id)
        if target.kind is TargetKind.CONFERENCE and value:
            return twiml.dial_conference(value)
        if target.kind is TargetKind.QUEUE and value:
            return twiml.dial_queue(value)
        if target.kind in (TargetKind.PSTN, TargetKind.EMERGENCY) and value:
            return twiml.dial_number(value, caller_id=decision.caller_id)
        # A connect with nothing to dial cannot happen through the engine; refuse rather than guess.
    return render_refusal(decision, defaults)


def render_refusal(decision: Decision | None, defaults: Defaults) -> str:
    if defaults.reject_style is RejectStyle.ANNOUNCE:
        text = spoken_reason(decision) if decision is not None else _SPOKEN["fault"] + " Goodbye."
        return twiml.say_and_hangup(text, voice=defaults.announce_voice, language=defaults.announce_language)
    return twiml.reject("rejected")
