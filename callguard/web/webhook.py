"""What every Twilio webhook does first: check the signature, or answer 403 and nothing else.

``@twilio_webhook`` wraps a view ``view(state, params)``: it runs only for a request whose
``X-Twilio-Signature`` verifies with the auth token of the request's ``AccountSid``, over
``CALLGUARD_PUBLIC_URL`` + path + query; anything else gets a bare 403.

Looking at a request as a webhook starts its answer's deadline (``CALLGUARD_ANSWER_DEADLINE``,
:mod:`callguard.deadline`): every dependency call made for it is bounded by what is left. The
extension ends it when the request is torn down.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Response, request
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from ..deadline import start_answer
from ..loggers import get_logger
from .body_limit import limit_body
from .responses import forbidden
from .state import CallguardState, current_state
from .twilio_request import signed_url

log = get_logger("callguard.web")

# The request's VerifiedRequest, set in the WSGI environ once its signature has verified: error
# handlers learn from it whether they may answer with TwiML or only with 403, and the status
# forwarding which token signed it. (The environ, not flask.g: a plain dict, no context proxy.)
VERIFIED = "callguard.verified"


@dataclass(slots=True)  # made per request, never changed: not frozen, whose fields cost five times as much to set
class VerifiedRequest:
    """A webhook request whose signature verified: its parameters, the URL Twilio signed, and the
    validator of the token that signed it (to sign what callguard forwards on its behalf)."""

    params: Mapping[str, str]  # each parameter's first value, as ``request.form.get`` (GET: ``request.args.get``) reads it
    url: str
    signer: RequestValidator
    query_string: bytes = b""


def verified_request(state: CallguardState) -> VerifiedRequest | None:
    """The request, if its signature verifies, else None."""
    start_answer(state.settings.answer_deadline)
    req = request._get_current_object()  # type: ignore[attr-defined]  # the proxy's lookup, once
    try:
        if req.method == "POST":
            limit_body(req, state.settings.max_body_bytes)
            form = req.form  # raises 413 past the limit
            signed_params: Mapping[str, str] = form
        else:
            form, signed_params = req.args, {}
    except HTTPException:
        return None  # oversized or unreadable: Twilio never sends such a request
    # A plain dict of first values: a MultiDict's get() of an absent name (SipDomain, callerId …)
    # builds and catches a BadRequestKeyError, and every webhook reads several such names.
    # (A MultiDict is a dict of each name's list of values: its first values read at C speed.)
    params: Mapping[str, str] = (
        {name: values[0] for name, values in dict.items(form)} if isinstance(form, MultiDict) else dict(form.items())
    )
    account_sid = params.get("AccountSid")
    environ = req.environ
    query_string = req.query_string
    url = signed_url(state.settings.public_url, lambda: req.url_root, req.script_root + req.path, query_string)
    signer = state.validator.signer(
        account_sid,
        url,
        signed_params,
        environ.get("HTTP_X_TWILIO_SIGNATURE"),
        settings_header=environ.get("HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS"),
    )
    if signer is None:
        log.warning("rejected webhook with a bad or missing signature: account=%r url=%s", account_sid, url)
        return None
    verified = environ[VERIFIED] = VerifiedRequest(params, url, signer, query_string)
    return verified


def current_verified() -> VerifiedRequest | None:
    """The request verified by :func:`verified_request` (and so by ``@twilio_webhook``), if any."""
    return request.environ.get(VERIFIED)


def verified_params(state: CallguardState) -> Mapping[str, str] | None:
    """The request's Twilio parameters if its signature verifies, else None."""
    verified = verified_request(state)
    return verified.params if verified is not None else None


def is_verified() -> bool:
    return bool(request.environ.get(VERIFIED))


def twilio_webhook(view: Callable[[CallguardState, Mapping[str, str]], Response]) -> Callable[[], Response]:
    """Run ``view(state, params)`` for correctly signed requests; 403 for the rest."""

    @functools.wraps(view)
    def wrapper() -> Response:
        state = current_state()
        params = verified_params(state)
        if params is None:
            return forbidden()
        return view(state, params)

    return wrapper
