"""The telemarketing webhooks: the disclosure whisper, the opt-out prompt's answer, and the
answer-time hand-over for calls created through the REST API.

- ``/voice/disclosure?campaign=ID`` is the ``<Number url>`` of a disclosed dial: on answer, before
  the call is bridged, the callee hears who is calling and why and a ``<Gather>`` offering the
  opt-out. Without input the whisper ends and the call is bridged.
- ``/voice/optout?campaign=ID`` receives the ``<Gather>``'s input. The opt-out key (or, in English,
  a revocation word of the prompt's language, such as "stop" or "alto") records the opt-out, and only once it is committed is the
  callee told so; then the call ends. Any other input, or none, lets the call go on.
- ``/voice/answer?campaign=ID&next=URL`` is the ``url`` of a call created through the REST API:
  it re-checks the call, plays the disclosure and prompt, then ``<Redirect>``s to ``next``, which
  must lie under a URL the policy lists (``answer_urls``): never an open redirect.

Without ``?campaign=``, the calling account's default campaign applies, as in the engine.

``next`` may also be an app's own whisper that callguard chained behind its disclosure when it
policed the app's TwiML: such a URL carries an HMAC tag (``next_tag``, see
:mod:`callguard.wrapping.chaining`) and is followed, with its ``next_method``, only when the
tag verifies with the account's token.

Whatever goes wrong here, the callee is not bridged without the disclosure: faults hang up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

import twiml

from ..decision import Action
from ..errors import StoreUnavailable
from ..loggers import get_logger
from ..numbers.classify import classify_number
from ..numbers.dialstring import TargetKind, normalize_dial_string
from ..paths import VOICE_ANSWER, VOICE_DISCLOSURE, VOICE_OPTOUT
from ..policy.model import Campaign, OptOutScope
from ..policy.revocation import ENGLISH, revocation_words, said_any
from ..wrapping.chaining import chained_whisper
from .responses import forbidden, twiml_response
from .state import CallguardState
from .twilio_request import dial_request_from_params
from .urls import callback_base, url_allowed
from .webhook import is_verified, twilio_webhook

log = get_logger("callguard.web")

compliance = Blueprint("callguard_compliance", __name__)

_SORRY = "We are sorry, your request could not be recorded right now. Please call us to be removed. Goodbye."


def _campaign(state: CallguardState, params: Mapping[str, str]) -> tuple[str | None, Campaign | None]:
    """The campaign the URL names, else the calling account's default (as the engine chooses)."""
    policy = state.guard.policy
    campaign_id = request.args.get("campaign") or None
    if campaign_id is None:
        account = policy.account(params.get("AccountSid"))
        campaign_id = account.default_campaign if account is not None else None
    return campaign_id, policy.campaign(campaign_id)


@dataclass(frozen=True)
class NextUrl:
    """Where the call goes after callguard's prompt, and whether it may go there.

    ``carry`` holds the ``next*`` query parameters, passed on to /voice/optout unchanged.
    """

    url: str
    method: str
    allowed: bool
    carry: Mapping[str, str]


_NEXT_PARAMETERS = ("next", "next_method", "next_tag")


def _next_url(state: CallguardState, campaign: Campaign | None, params: Mapping[str, str]) -> NextUrl | None:
    """The ``next`` URL: allowed under the policy's ``answer_urls``, or as an app whisper callguard chained."""
    url = request.args.get("next") or None
    if url is None:
        return None
    method = (request.args.get("next_method") or "POST").upper()
    carry = {name: request.args[name] for name in _NEXT_PARAMETERS if request.args.get(name)}
    prefixes = (campaign.answer_urls if campaign is not None else ()) + state.guard.policy.defaults.answer_urls
    allowed = method in ("GET", "POST") and (
        url_allowed(url, prefixes) or chained_whisper(request.args, state.validator.tokens_for(params.get("AccountSid"))) is not None
    )
    return NextUrl(url, method, allowed, carry)


def _optout_action(base: str, campaign: Campaign, next_url: NextUrl | None) -> str:
    query = {"campaign": campaign.id, **(next_url.carry if next_url is not None else {})}
    return f"{base}{VOICE_OPTOUT}?{urlencode(query)}"


def disclosure_document(campaign: Campaign, *, base: str, next_url: NextUrl | None) -> str:
    """The disclosure and opt-out prompt for ``campaign``, continuing to ``next_url`` (or bridging)."""
    return twiml.gather_prompt(
        action=_optout_action(base, campaign, next_url),
        say=(campaign.disclosure_text,) if campaign.disclosure_text else (),
        play_url=campaign.disclosure_audio_url,
        after_play=(campaign.prompt_text(),),
        language=campaign.language,
        voice=campaign.voice,
        speech_hints=campaign.revocation_words,
        then_redirect=next_url.url if next_url is not None else None,
        then_method=next_url.method if next_url is not None else "POST",
    )


def is_opt_out(campaign: Campaign | None, digits: str | None, speech: str | None) -> bool:
    """The opt-out key pressed, or a revocation word or phrase said in the prompt's language."""
    key = campaign.opt_out_digit if campaign is not None else "9"
    if digits and digits.strip() == key:
        return True
    if not speech:
        return False
    return said_any(speech, campaign.revocation_words if campaign is not None else revocation_words(ENGLISH))


@compliance.route(VOICE_DISCLOSURE, methods=["GET", "POST"])
@twilio_webhook
def disclosure(state: CallguardState, params: Mapping[str, str]) -> Response:
    campaign_id, campaign = _campaign(state, params)
    next_url = _next_url(state, campaign, params)
    if campaign is None or (next_url is not None and not next_url.allowed):
        # Without its disclosure a telemarketing call must not be bridged: end the callee's leg.
        log.error(
            "disclosure for call %s: campaign %r unknown or next %r not allowed; hanging up",
            params.get("CallSid"), campaign_id, next_url.url if next_url else None,
        )
        return twiml_response(twiml.hangup(), header_value="reject; reasons=disclosure.unavailable")
    body = disclosure_document(campaign, base=callback_base(state), next_url=next_url)
    return twiml_response(body, header_value="disclose; reasons=disclosure.played")


@compliance.route(VOICE_OPTOUT, methods=["GET", "POST"])
@twilio_webhook
def optout(state: CallguardState, params: Mapping[str, str]) -> Response:
    campaign_id, campaign = _campaign(state, params)
    next_url = _next_url(state, campaign, params)
    if not is_opt_out(campaign, params.get("Digits"), params.get("SpeechResult")):
        if next_url is not None and next_url.allowed:
            return twiml_response(twiml.redirect(next_url.url, method=next_url.method), header_value="connect; reasons=optout.declined")
        return twiml_response(twiml.empty(), header_value="connect; reasons=optout.declined")

    policy = state.guard.policy
    account_sid = params.get("AccountSid") or ""
    account = policy.account(account_sid)
    region = account.default_region if account is not None else policy.defaults.default_region
    target = normalize_dial_string(params.get("To") or "", default_region=region, emergency_regions=())
    voice = campaign.voice if campaign is not None else None
    language = campaign.language if campaign is not None else None
    if target.kind is not TargetKind.PSTN or not classify_number(target.e164).valid:  # type: ignore[arg-type]
        log.error("opt-out for call %s: the callee %r is not a phone number; nothing recorded", params.get("CallSid"), params.get("To"))
        return twiml_response(twiml.say_and_hangup(_SORRY, voice=voice, language=language), header_value="reject; reasons=optout.failed")
    scope = campaign.id if campaign is not None and campaign.opt_out_scope is OptOutScope.CAMPAIGN else None
    try:
        state.optouts.add(
            target.e164,  # type: ignore[arg-type]
            account.family if account is not None else account_sid,
            campaign=scope,
            source="prompt",
            now=state.guard.clock(),
            call_sid=params.get("CallSid"),
            note=f"campaign {campaign_id}" if campaign_id else None,
        )
    except StoreUnavailable:
        # Never tell the callee it is done unless it is stored.
        log.exception("opt-out for call %s to %s could not be stored", params.get("CallSid"), target.e164)
        return twiml_response(twiml.say_and_hangup(_SORRY, voice=voice, language=language), header_value="reject; reasons=optout.failed")
    log.info(
        "opt-out recorded: %s for account family %s (%s)",
        target.e164,
        account.family if account else account_sid,
        scope or "every campaign",
    )
    confirmation = campaign.confirmation() if campaign is not None else "Your number has been removed. Goodbye."
    return twiml_response(
        twiml.say_and_hangup(confirmation, voice=voice, language=language), header_value="reject; reasons=optout.recorded"
    )


@compliance.route(VOICE_ANSWER, methods=["GET", "POST"])
@twilio_webhook
def answer(state: CallguardState, params: Mapping[str, str]) -> Response:
    campaign_id, campaign = _campaign(state, params)
    next_url = _next_url(state, campaign, params)
    if next_url is None or not next_url.allowed:
        log.error(
            "answer for call %s: next %r is not under the policy's answer_urls; hanging up",
            params.get("CallSid"), next_url.url if next_url else None,
        )
        return twiml_response(twiml.hangup(), header_value="reject; reasons=answer.next_not_allowed")
    dial = dial_request_from_params(params, source="answer", campaign=campaign_id)
    decision = state.guard.check(dial)
    if decision.action is Action.DISCLOSE and campaign is not None:
        return twiml_response(disclosure_document(campaign, base=callback_base(state), next_url=next_url), decision)
    if decision.action is not Action.CONNECT:  # refused, or a disclosure that cannot be played: never hand over
        return twiml_response(twiml.hangup(), decision)
    return twiml_response(twiml.redirect(next_url.url, method=next_url.method), decision)


@compliance.errorhandler(Exception)
def _fault(exc: Exception) -> Response:
    if isinstance(exc, HTTPException) and exc.code is not None and exc.code < 500:
        return exc if exc.code in (404, 405) else forbidden()  # type: ignore[return-value]
    if not is_verified():
        log.exception("fault before the signature was verified")
        return forbidden()
    log.exception("fault in a telemarketing webhook; hanging up rather than bridging without a disclosure")
    return twiml_response(twiml.hangup(), header_value="reject; reasons=fault.internal")
