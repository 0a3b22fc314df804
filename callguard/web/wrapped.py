"""Answer Twilio with the TwiML an app wrote, policed: what ``@guard.protect``, :class:`GuardMiddleware`
and the proxy routes share once they have the app's answer.

The answer is always valid TwiML. An app that failed — it raised, timed out, answered a non-2xx
status or something that is not TwiML — gets the policy's refusal (there is nothing to connect),
``X-Callguard-Decision: reject; reasons=upstream.…``. A fault in callguard itself while policing
follows the fail mode: ``connect`` passes the app's document on unchecked
(``connect; reasons=fault.fail_open``); ``reject`` refuses (``reject; reasons=fault.internal``),
except that a document dialling an emergency number is passed on
(``connect; reasons=emergency,fault.internal``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from twiml.dials import find_dial_targets
from twiml.document import parse_twiml

from ..checks.traffic import effective_traffic
from ..errors import TwimlError, UpstreamError
from ..loggers import get_logger
from ..numbers.dialstring import TargetKind, normalize_dial_string
from ..policy.model import FailMode
from ..rendering import render_refusal
from ..runtime.metrics import upstream_failure
from ..wrapping.policing import Callbacks, WrappedCall, dial_string, police_twiml
from .state import CallguardState
from .urls import callback_base
from .webhook import VerifiedRequest

log = get_logger("callguard.web")


@dataclass(slots=True)  # made per request, never changed (not frozen: see callguard.wrapping.policing)
class PolicedAnswer:
    """What to answer Twilio with. ``as_written``: ``body`` is the app's own bytes, unchanged."""

    body: bytes | str
    header: str
    as_written: bool


def police_app_answer(
    state: CallguardState, verified: VerifiedRequest, body: bytes, *, campaign: str | None, source: str
) -> PolicedAnswer:
    """Police ``body``, the app's answer to the verified request being handled."""
    guard = state.guard
    policy = guard.policy
    params = verified.params
    account = policy.account(params.get("AccountSid"))
    if not campaign and verified.query_string:  # parsing the query costs a request without one nothing
        campaign = request.args.get("campaign") or None
    call = WrappedCall.from_params(params, campaign=campaign, source=source)
    # Counted calls (the account's, or its campaign's, traffic limits) must report their end.
    counted = False
    if account is not None and state.traffic is not None:
        call_campaign = policy.campaign(call.campaign or account.default_campaign)
        counted = effective_traffic(account.traffic, call_campaign, policy.source).enabled
    callbacks = Callbacks(base_url=callback_base(state), document_url=verified.url, key=verified.signer.token, status=counted)
    try:
        policed = police_twiml(body, guard, call, callbacks, max_bytes=state.upstream.max_bytes)
    except TwimlError as exc:
        return failed_answer(state, UpstreamError(f"no usable TwiML: {exc}", reason="upstream.invalid"), call_sid=call.call_sid)
    except Exception as exc:
        return _fault_answer(state, body, call, exc)
    return PolicedAnswer(policed.body, policed.header_value(), not policed.changed)


def failed_answer(state: CallguardState, error: UpstreamError, *, call_sid: str | None) -> PolicedAnswer:
    """The policy's refusal, for an app that gave no usable answer."""
    log.warning("call %s: %s; answering the policy's refusal", call_sid, error)
    upstream_failure(error.reason)
    return PolicedAnswer(render_refusal(None, state.guard.policy.defaults), f"reject; reasons={error.reason}", False)


def _fault_answer(state: CallguardState, body: bytes, call: WrappedCall, exc: Exception) -> PolicedAnswer:
    log.exception("fault while policing the TwiML answering call %s", call.call_sid)
    defaults = state.guard.policy.defaults
    if defaults.fail_mode is FailMode.CONNECT:
        return PolicedAnswer(body, "connect; reasons=fault.fail_open", True)
    if _dials_emergency(state, body, call):
        return PolicedAnswer(body, "connect; reasons=emergency,fault.internal", True)
    return PolicedAnswer(render_refusal(None, defaults), "reject; reasons=fault.internal", False)


def _dials_emergency(state: CallguardState, body: bytes, call: WrappedCall) -> bool:
    """Whether the document dials an emergency number: emergency calls go through whatever faults."""
    try:
        policy = state.guard.policy
        account = policy.account(call.account_sid)
        region = account.default_region if account is not None else policy.defaults.default_region
        prefix = account.outside_line_prefix if account is not None else None
        for target in find_dial_targets(parse_twiml(body)):
            dialled = normalize_dial_string(dial_string(target.described), default_region=region, outside_line_prefix=prefix)
            if dialled.kind is TargetKind.EMERGENCY:
                return True
        return False
    except Exception:
        log.exception("could not look for emergency numbers after a fault")
        return False
