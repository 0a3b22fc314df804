"""Forward a status callback to the app's own ``statusCallback``, when callguard chained its own in front.

callguard's ``statusCallback`` on a policed ``<Number>`` carries the app's callback URL, method
and events with an HMAC tag (:mod:`callguard.wrapping.chaining`). Only when the tag verifies
with the account's token, and the event is one the app asked for, are Twilio's parameters sent
on to the app's URL, re-signed for it with the token that signed Twilio's request. Forwarding
is bounded by short timeouts, and a failure is logged, never passed back to Twilio.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import request
from twilio.request_validator import get_signature_algorithm

from ..errors import UpstreamError
from ..loggers import get_logger
from ..wrapping.chaining import chained_status_callback, wants_event
from .state import CallguardState
from .urls import callback_base
from .webhook import current_verified

log = get_logger("callguard.web")

CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 2.0


def _direct(state: CallguardState, url: str) -> str:
    """The app's URL itself when ``url`` is one of callguard's proxy routes (an app behind the proxy
    with a relative callback URL), rather than a request from callguard to itself."""
    base = callback_base(state)
    if not url.startswith(base + "/"):
        return url
    path, separator, query = url[len(base):].partition("?")
    route = state.guard.policy.proxy.match(path)
    if route is None:
        return url
    return route.upstream_url(path) + separator + query


def forward_status_callback(state: CallguardState, params: Mapping[str, str]) -> None:
    """Send this status callback on to the app's own URL, if callguard chained one. Never raises."""
    if not request.args.get("forward"):
        return
    try:
        account_sid = params.get("AccountSid")
        chained = chained_status_callback(request.args, state.validator.tokens_for(account_sid))
        if chained is None:
            log.warning("status callback for call %s: the app URL's tag does not verify; not forwarded", params.get("CallSid"))
            return
        if not wants_event(chained, params.get("CallStatus") or ""):
            return
        verified = current_verified()
        if verified is None:
            return
        state.upstream.send(
            chained.method,
            _direct(state, chained.url),
            params=list(request.form.items(multi=True)),
            signer=verified.signer,
            algorithm=get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings")),
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
        )
    except UpstreamError as exc:
        log.warning("status callback for call %s not forwarded: %s", params.get("CallSid"), exc)
    except Exception:
        log.exception("status callback for call %s: fault while forwarding", params.get("CallSid"))
