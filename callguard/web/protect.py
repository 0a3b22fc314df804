"""``@guard.protect``: put callguard's checks on a Flask view that answers Twilio with TwiML.

The view runs as before, for requests whose Twilio signature verifies (others get 403 and the
view does not run). Every ``<Dial>`` target in the TwiML it returns is decided by the engine
with the request's ``AccountSid`` and ``From``, and the document is rewritten as
:mod:`callguard.wrapping.policing` describes; the answer carries ``X-Callguard-Decision``.
The app's response keeps its status, headers and cookies; only a changed document gets a new
body (UTF-8, ``application/xml``).

A view that raises (other than an HTTP error it means, such as ``abort(404)``), answers a
non-2xx status, or returns something that is not TwiML, gets the policy's refusal instead:
Twilio never sees a 5xx.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, overload

from flask import Response, current_app
from werkzeug.exceptions import HTTPException

from ..errors import UpstreamError
from ..loggers import get_logger
from .responses import DECISION_HEADER, TWIML_MIMETYPE, forbidden, twiml_response
from .state import CallguardState
from .webhook import VerifiedRequest, verified_request
from .wrapped import PolicedAnswer, failed_answer, police_app_answer

log = get_logger("callguard.web")

View = TypeVar("View", bound=Callable[..., Any])


@overload
def protect(view: View, *, campaign: str | None = None) -> View: ...
@overload
def protect(view: None = None, *, campaign: str | None = None) -> Callable[[View], View]: ...


def protect(view: Any = None, *, campaign: str | None = None) -> Any:
    """``@protect`` or ``@protect(campaign="…")`` on a view; ``campaign`` overrides ``?campaign=``."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's lookup, once
            state: CallguardState = app.extensions["callguard"]
            verified = verified_request(state)
            if verified is None:
                return forbidden()
            try:
                response = app.make_response(view(*args, **kwargs))
            except HTTPException:
                raise
            except Exception as exc:
                log.exception("the protected view %s raised", view.__name__)
                error = UpstreamError(f"the view raised {type(exc).__name__}", reason="upstream.fault")
                return answer_response(failed_answer(state, error, call_sid=verified.params.get("CallSid")))
            return police_response(state, verified, response, campaign=campaign, source="wrapped")

        return wrapper  # type: ignore[return-value]

    return decorate(view) if view is not None else decorate


def answer_response(answer: PolicedAnswer) -> Response:
    return twiml_response(answer.body if isinstance(answer.body, str) else answer.body.decode("utf-8"), header_value=answer.header)


def police_response(state: CallguardState, verified: VerifiedRequest, response: Response, *, campaign: str | None, source: str) -> Response:
    """The app's response with its TwiML policed (or the policy's refusal if it has none)."""
    call_sid = verified.params.get("CallSid")
    if not 200 <= response.status_code < 300:
        error = UpstreamError(f"the view answered HTTP {response.status_code}", reason="upstream.status")
        return answer_response(failed_answer(state, error, call_sid=call_sid))
    body = _body(response, state.upstream.max_bytes)
    if body is None:
        error = UpstreamError(f"the view answered more than {state.upstream.max_bytes} bytes", reason="upstream.invalid")
        return answer_response(failed_answer(state, error, call_sid=call_sid))
    answer = police_app_answer(state, verified, body, campaign=campaign, source=source)
    if not answer.as_written:
        response.set_data(answer.body)
        response.headers["Content-Type"] = f"{TWIML_MIMETYPE}; charset=utf-8"
    response.headers[DECISION_HEADER] = answer.header
    return response


def _body(response: Response, limit: int) -> bytes | None:
    """The response body, or None past ``limit`` bytes (a streamed body is read only that far)."""
    if not response.is_streamed:
        data = response.get_data()
        return data if len(data) <= limit else None
    chunks, size = [], 0
    for chunk in response.iter_encoded():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    data = b"".join(chunks)
    response.set_data(data)
    return data
