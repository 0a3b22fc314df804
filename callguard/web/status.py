"""``POST /voice/status``: Twilio's status callbacks for the calls callguard connects.

callguard puts its own ``statusCallback`` on the ``<Number>`` it dials when the account has
traffic limits, so no app change is needed. A call checked before it existed (created through
the REST API) carries ``?slot=ID``: the ``call_sid`` its decision was made under. The final status of the callee's leg tells
whether it was answered and for how long: that frees the call's concurrency slot and feeds the
caller ID's answer ratio and average call length. Non-final statuses are acknowledged and
ignored. The answer is always an empty TwiML document (or 403 for an unsigned request).
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

import twiml

from ..checks.traffic import effective_traffic
from ..errors import StoreUnavailable
from ..loggers import get_logger
from ..numbers.dialstring import TargetKind, normalize_dial_string
from ..paths import VOICE_STATUS
from ..runtime.metrics import store_error
from .responses import forbidden, twiml_response
from .state import CallguardState
from .status_forwarding import forward_status_callback
from .twilio_request import FINAL_CALL_STATUSES
from .webhook import is_verified, twilio_webhook

log = get_logger("callguard.web")

status = Blueprint("callguard_status", __name__)

@status.route(VOICE_STATUS, methods=["GET", "POST"])
@twilio_webhook
def call_status(state: CallguardState, params: Mapping[str, str]) -> Response:
    forward_status_callback(state, params)  # the app's own statusCallback, if callguard chained one
    call_status = (params.get("CallStatus") or params.get("DialCallStatus") or "").lower()
    account = state.guard.policy.account(params.get("AccountSid"))
    if call_status not in FINAL_CALL_STATUSES or account is None or state.traffic is None:
        return twiml_response(twiml.empty())
    campaign = state.guard.policy.campaign(request.args.get("campaign"))
    policy = effective_traffic(account.traffic, campaign, state.guard.policy.source)
    try:
        duration = float(params.get("CallDuration") or params.get("DialCallDuration") or 0)
    except ValueError:
        duration = 0.0
    caller = normalize_dial_string(params.get("From") or "", default_region=account.default_region, emergency_regions=())
    try:
        state.traffic.after_call(
            account_sid=account.sid,
            caller_id=caller.e164 if caller.kind is TargetKind.PSTN else None,
            # The slot was taken under the call that asked for the dial: the parent of this leg;
            # a call created through the REST API had no SID yet and names its slot in the URL.
            call_sid=request.args.get("slot") or params.get("ParentCallSid") or params.get("CallSid"),
            answered=call_status == "completed" and duration > 0,
            duration=duration,
            policy=policy,
            now=state.guard.clock(),
        )
    except StoreUnavailable as exc:
        store_error(exc.backend, exc.operation)
        log.error("status of call %s not recorded: %s", params.get("CallSid"), exc)
    return twiml_response(twiml.empty())


@status.errorhandler(Exception)
def _fault(exc: Exception) -> Response:
    if isinstance(exc, HTTPException) and exc.code is not None and exc.code < 500:
        return exc if exc.code in (404, 405) else forbidden()  # type: ignore[return-value]
    if not is_verified():
        return forbidden()
    log.exception("fault in the status callback")
    return twiml_response(twiml.empty())
