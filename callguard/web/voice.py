"""The outbound voice webhook: ``POST /voice/outbound`` (``GET`` too, as Twilio can be told to use it).

Programmable Voice (a number, TwiML App or Voice SDK client) and SIP Domains call it for each
outbound dial. It validates Twilio's signature, asks the engine, and answers with
``<Dial><Number>`` or the policy's refusal. It never answers 5xx: a fault becomes valid TwiML
by the policy's fail mode, and emergency numbers connect whatever happens.
"""

from __future__ import annotations

import logging

from typing import Mapping

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

from ..decision import DialRequest
from ..rendering import render_decision, render_refusal
from .responses import forbidden, twiml_response
from .state import CallguardState, current_state
from .twilio_request import dial_request_from_params, signed_url

log = logging.getLogger("callguard.web")

voice = Blueprint("callguard_voice", __name__)

# The last resort when even rendering failed: valid TwiML that refuses.
_LAST_RESORT = '<?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="rejected" /></Response>'


VERIFIED = "callguard.verified"


def verified_params(state: CallguardState) -> Mapping[str, str] | None:
    """The request's Twilio parameters if its signature verifies, else None."""
    try:
        if request.method == "POST":
            params: Mapping[str, str] = request.form  # raises 413 past MAX_CONTENT_LENGTH
            signed_params: Mapping[str, str] = params
        else:
            params, signed_params = request.args, {}
    except HTTPException:
        return None  # oversized or unreadable: Twilio never sends such a request
    account_sid = params.get("AccountSid")
    url = signed_url(state.settings.public_url, lambda: request.url_root, request.script_root + request.path, request.query_string)
    headers = request.headers
    ok = state.validator.validate(
        account_sid,
        url,
        signed_params,
        headers.get("X-Twilio-Signature"),
        settings_header=headers.get("X-Twilio-Webhooks-Signature-Settings"),
    )
    if not ok:
        log.warning("rejected webhook with a bad or missing signature: account=%r url=%s", account_sid, url)
        return None
    request.environ[VERIFIED] = True
    return params


@voice.route("/voice/outbound", methods=["GET", "POST"])
def outbound() -> Response:
    state = current_state()
    params = verified_params(state)
    if params is None:
        return forbidden()
    dial = dial_request_from_params(params)
    guard = state.guard
    decision = guard.check(dial)  # never raises: faults become fail-mode decisions
    try:
        body = render_decision(decision, guard.policy.defaults)
    except Exception as exc:
        log.exception("rendering failed for call %s", dial.call_sid)
        decision = guard.fault_decision(dial, exc)
        body = _render_fault(decision)
    return twiml_response(body, decision)


def _render_fault(decision: object) -> str:
    try:
        return render_decision(decision, current_state().guard.policy.defaults)  # type: ignore[arg-type]
    except Exception:
        log.exception("rendering the fault decision failed too")
        return _LAST_RESORT


@voice.errorhandler(Exception)
def _fault(exc: Exception) -> Response:
    """Anything that escaped the view: answer valid TwiML by the fail mode, never 5xx."""
    if isinstance(exc, HTTPException) and exc.code is not None and exc.code < 500:
        if exc.code in (404, 405):
            return exc  # type: ignore[return-value]
        return forbidden()
    if not request.environ.get(VERIFIED):
        log.exception("fault before the signature was verified")
        return forbidden()
    log.exception("fault in the voice webhook")
    try:
        state = current_state()
        params = request.values.to_dict(flat=True)
        dial = dial_request_from_params(params) if params.get("To") else DialRequest(None, "")
        decision = state.guard.fault_decision(dial, exc)
        state.guard.audit.record(decision)
        return twiml_response(_render_fault(decision), decision)
    except Exception:
        log.exception("fault handler failed; answering the last-resort refusal")
        return twiml_response(_LAST_RESORT, header_value="reject; reasons=fault.internal")
