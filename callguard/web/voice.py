"""The outbound voice webhook: ``POST /voice/outbound`` (``GET`` too, as Twilio can be told to use it).

Programmable Voice (a number, TwiML App or Voice SDK client) and SIP Domains call it for each
outbound dial. It validates Twilio's signature, asks the engine, and answers with
``<Dial><Number>`` or the policy's refusal. It never answers 5xx: a fault becomes valid TwiML
by the policy's fail mode, and emergency numbers connect whatever happens.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

from ..decision import Decision, DialRequest
from ..loggers import get_logger
from ..paths import VOICE_OUTBOUND
from ..rendering import render_decision
from .responses import forbidden, twiml_response
from .state import CallguardState, current_state
from .twilio_request import dial_request_from_params
from .urls import callback_base
from .webhook import is_verified, twilio_webhook

log = get_logger("callguard.web")

voice = Blueprint("callguard_voice", __name__)

# The last resort when even rendering failed: valid TwiML that refuses.
_LAST_RESORT = '<?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="rejected" /></Response>'


@voice.route(VOICE_OUTBOUND, methods=["GET", "POST"])
@twilio_webhook
def outbound(state: CallguardState, params: Mapping[str, str]) -> Response:
    dial = dial_request_from_params(params, campaign=request.args.get("campaign") or None)
    guard = state.guard
    decision = guard.check(dial)  # never raises: faults become fail-mode decisions
    # A call the traffic check counted must report its end: that frees its slot and feeds its caller ID's figures.
    status_callback = "traffic" in decision.checks
    try:
        body = render_decision(decision, guard.policy.defaults, base_url=callback_base(state), status_callback=status_callback)
    except Exception as exc:
        log.exception("rendering failed for call %s", dial.call_sid)
        decision = guard.fault_decision(dial, exc)
        body = render_fault(decision)
    return twiml_response(body, decision)


def render_fault(decision: Decision) -> str:
    """The TwiML for a fault decision, or the last-resort refusal if even that cannot be rendered."""
    try:
        return render_decision(decision, current_state().guard.policy.defaults)
    except Exception:
        log.exception("rendering the fault decision failed too")
        return _LAST_RESORT


@voice.errorhandler(Exception)
def _fault(exc: Exception) -> Response:
    """Anything that escaped a view: valid TwiML by the fail mode for signed requests, never 5xx."""
    if isinstance(exc, HTTPException) and exc.code is not None and exc.code < 500:
        if exc.code in (404, 405):
            return exc  # type: ignore[return-value]
        return forbidden()
    if not is_verified():
        log.exception("fault before the signature was verified")
        return forbidden()
    log.exception("fault in a voice webhook")
    try:
        state = current_state()
        params = request.values.to_dict(flat=True)
        dial = dial_request_from_params(params) if params.get("To") else DialRequest(None, "")
        decision = state.guard.fault_decision(dial, exc)
        state.guard.record(decision)
        return twiml_response(render_fault(decision), decision)
    except Exception:
        log.exception("fault handler failed; answering the last-resort refusal")
        return twiml_response(_LAST_RESORT, header_value="reject; reasons=fault.internal")
