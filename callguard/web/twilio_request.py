"""Reading Twilio's webhook requests without Flask: the URL that was signed, and the dial asked for."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..decision import DialRequest


def signed_url(public_url: str | None, request_url_root: Callable[[], str], path: str, query_string: bytes) -> str:
    """The URL Twilio requested, which is what it signed.

    Behind a proxy the server sees another scheme or host than Twilio used, so
    ``CALLGUARD_PUBLIC_URL`` (scheme, host and any path prefix) replaces the part before
    ``path``; only without it is the request's own root URL worked out (it is not cheap).
    The query string is used raw, exactly as it arrived.
    """
    base = public_url if public_url is not None else request_url_root().rstrip("/")
    url = base + path
    if query_string:
        url += "?" + query_string.decode("latin-1")
    return url


# A call in one of these states has ended: TwiML answered to a request about it is never run.
FINAL_CALL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


def is_status_callback(params: Mapping[str, Any]) -> bool:
    """Whether Twilio's request is a status callback (whose answer Twilio never runs), not a call flow's.

    Status callbacks carry ``CallbackSource=call-progress-events``; a request about a call that
    has ended (a final ``CallStatus``: a number's status callback, or a ``<Dial action>`` after
    the caller hung up) cannot be answered with a call flow either.
    """
    if params.get("CallbackSource") == "call-progress-events":
        return True
    return str(params.get("CallStatus") or "").lower() in FINAL_CALL_STATUSES


def _first(params: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = params.get(name)
        if value:
            return str(value)
    return None


def dial_request_from_params(
    params: Mapping[str, Any], *, source: str = "webhook", campaign: str | None = None
) -> DialRequest:
    """The :class:`DialRequest` for a Programmable Voice or SIP Domain webhook's parameters.

    ``callerId`` (the Voice SDK convention for an app-chosen caller ID) wins over ``From``;
    ``campaign`` comes from the webhook URL's ``?campaign=`` query.
    """
    return DialRequest(
        account_sid=_first(params, "AccountSid"),
        to=_first(params, "To") or "",
        from_=_first(params, "From"),
        caller_id=_first(params, "callerId", "CallerId"),
        call_sid=_first(params, "CallSid"),
        sip_domain=_first(params, "SipDomain"),
        direction=_first(params, "Direction"),
        source=source,
        campaign=campaign,
    )
