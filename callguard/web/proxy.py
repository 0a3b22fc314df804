"""The policy's ``[[proxy.routes]]``: callguard in front of a voice app it does not run.

Twilio calls callguard at a route's ``path``; callguard checks the signature (403 otherwise),
forwards the same request to the route's ``upstream`` URL — same method, parameters, query
string and Twilio headers, re-signed for the upstream URL with the account token that signed
it, so the app's own signature check passes — waits at most the route's timeouts, and polices
the TwiML that comes back (:mod:`callguard.wrapping.policing`). An upstream that is down,
slow, answers a non-2xx status or no TwiML gets the policy's refusal, never a 5xx.

A status callback (the app's relative ``statusCallback`` resolves against callguard's URL too)
is forwarded the same way, but its answer is no call flow — Twilio never runs it — so the app's
answer goes back as it is (an empty 204, say), and an app that fails it gets an empty 204.

Routes are looked up in the current policy on every request (an app-wide ``before_request``),
so a route added to the policy file works as soon as the policy is reloaded.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, request
from twilio.request_validator import get_signature_algorithm

from ..errors import UpstreamError
from ..loggers import get_logger
from ..policy.model import ProxyRoute, ProxyRoutes
from ..rendering import render_refusal
from ..runtime.metrics import upstream_failure
from .protect import answer_response
from .responses import DECISION_HEADER, TWIML_MIMETYPE, forbidden, twiml_response
from .state import CallguardState
from .twilio_request import is_status_callback
from .webhook import is_verified, verified_request
from .wrapped import failed_answer, police_app_answer

log = get_logger("callguard.web")

# Headers Twilio sends that the app may read; the signature is computed afresh.
_FORWARDED_PREFIXES = ("x-twilio-", "i-twilio-")
_FORWARDED = ("x-home-region", "accept")


def proxy_hook(state: CallguardState) -> Callable[[], Response | None]:
    """The app's ``before_request`` hook: it answers requests on proxy routes, and returns None
    for every other path.

    It runs before every request the app serves, callguard's or not, and most policies have no
    proxy routes: it is bound to its app's state, so that such a request costs it one look at
    the policy (reaching the state through ``current_app`` would cost twice what the hook does)."""
    guard = state.guard

    def forward_to_upstream() -> Response | None:
        proxy = guard.policy.proxy
        if not proxy.routes:
            return None
        return _forward(state, proxy)

    return forward_to_upstream


def _forward(state: CallguardState, proxy: ProxyRoutes) -> Response | None:
    route = proxy.match(request.path)
    if route is None:
        return None
    try:
        return _proxy(state, route)
    except Exception:
        if not is_verified():
            log.exception("fault before the signature was verified on proxy route %s", route.path)
            return forbidden()
        log.exception("fault on proxy route %s", route.path)
        return twiml_response(render_refusal(None, state.guard.policy.defaults), header_value="reject; reasons=fault.internal")


def _headers() -> dict[str, str]:
    return {
        name: value
        for name, value in request.headers.items()
        if (name.lower().startswith(_FORWARDED_PREFIXES) or name.lower() in _FORWARDED) and name.lower() != "x-twilio-signature"
    }


def _proxy(state: CallguardState, route: ProxyRoute) -> Response:
    verified = verified_request(state)
    if verified is None:
        return forbidden()
    url = route.upstream_url(request.path)
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    call_sid = verified.params.get("CallSid")
    status_callback = is_status_callback(verified.params)
    try:
        answer = state.upstream.send(
            request.method,
            url,
            params=list(request.form.items(multi=True)) if request.method == "POST" else [],
            signer=verified.signer,
            algorithm=get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings")),
            headers=_headers(),
            connect_timeout=route.connect_timeout,
            read_timeout=route.read_timeout,
        )
    except UpstreamError as exc:
        if status_callback:
            log.warning("status callback for call %s not delivered to the app: %s", call_sid, exc)
            upstream_failure(exc.reason)
            return Response(status=204)
        return answer_response(failed_answer(state, exc, call_sid=call_sid))
    if status_callback:
        return Response(answer.body, status=answer.status, content_type=answer.content_type)
    policed = police_app_answer(state, verified, answer.body, campaign=route.campaign, source="proxy")
    if not policed.as_written:
        return answer_response(policed)
    response = Response(policed.body, status=200, content_type=answer.content_type or TWIML_MIMETYPE)
    response.headers[DECISION_HEADER] = policed.header
    return response
