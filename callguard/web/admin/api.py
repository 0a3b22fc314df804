"""The JSON API under ``/v1``: the blueprint, authentication, errors, and ``POST /v1/check``.

Every answer is JSON (``application/json``); errors are ``{"error": {"code", "message", "field"}}``
with 400 (bad input), 401 (no or unknown token), 403 (read-only token on a write), 404, 405, 409
or 413 — never a 5xx for bad input. The document describing it is at ``/v1/openapi.json``.
"""

from __future__ import annotations

import functools
import logging
import uuid
from typing import Any, Callable
from urllib.parse import urlencode

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from ...decision import Action, DialRequest
from ...errors import CallguardError, StoreUnavailable
from ...rendering import status_callback_url
from ..body_limit import limit_body
from ..state import current_state
from ..urls import callback_base
from .tokens import ApiToken, authenticate

log = logging.getLogger("callguard.api")

API_PREFIX = "/v1"
api = Blueprint("callguard_api", __name__, url_prefix=API_PREFIX)


@api.before_request
def _limit_body() -> None:
    limit_body(request, current_state().settings.max_body_bytes)  # an oversized JSON body: 413 too_large


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        self.status, self.code, self.message, self.field = status, code, message, field
        super().__init__(message)


def error_response(status: int, code: str, message: str, field: str | None = None) -> Response:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if field is not None:
        body["error"]["field"] = field
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="callguard"'
    return response


def endpoint(*, write: bool = False) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Authenticate the bearer token (write endpoints need a read-write one)."""

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            token = authenticate(current_state().api_tokens, request.headers.get("Authorization"))
            if token is None:
                return error_response(401, "unauthorized", "a valid bearer token is required")
            if write and not token.writable:
                return error_response(403, "forbidden", f"token {token.name!r} is read-only")
            g.callguard_token = token
            return view(*args, **kwargs)

        return wrapper

    return decorate


def actor() -> str:
    token: ApiToken = g.callguard_token
    return f"api:{token.name}"


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400."""
    if not request.is_json:
        raise ApiError(400, "bad_request", "the body must be JSON (Content-Type: application/json)")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object")
    return body


def text_field(body: dict[str, Any], name: str, *, required: bool = False, max_length: int = 512) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(400, "bad_request", f"{name} is required", name)
        return None
    if not isinstance(value, str) or len(value) > max_length or "\x00" in value:
        raise ApiError(400, "bad_request", f"{name} must be a string of at most {max_length} characters", name)
    return value


# How long a reservation's concurrency slot is held unless the call's status callback frees it.
RESERVE_SECONDS = 60.0
MAX_RESERVE_SECONDS = 14_400.0  # four hours, the default max_call_seconds


def _reservation_fields(body: dict[str, Any]) -> tuple[bool, float]:
    """``reserve`` (a boolean, default false) and ``reserve_seconds`` (1 to 14 400, default 60), or a 400."""
    reserve = body.get("reserve", False)
    if not isinstance(reserve, bool):
        raise ApiError(400, "bad_request", "reserve must be true or false", "reserve")
    seconds = body.get("reserve_seconds", RESERVE_SECONDS)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 1 <= seconds <= MAX_RESERVE_SECONDS:
        raise ApiError(400, "bad_request", f"reserve_seconds must be a number from 1 to {MAX_RESERVE_SECONDS:g}", "reserve_seconds")
    return reserve, float(seconds)


@api.post("/check")
@endpoint()
def check() -> Response:
    """Decide one dial, as the webhook would, without placing it; the decision is audited.

    A what-if by default: the traffic limits are read, nothing is counted. With ``"reserve":
    true`` the call is counted for real under a slot name (its ``call_sid``, else one made up),
    whose concurrency slot is held for ``reserve_seconds`` unless the ``status_callback`` the
    answer names reports the call's end first.
    """
    body = json_body()
    account_sid = text_field(body, "account_sid", required=True, max_length=64)
    to = text_field(body, "to", required=True, max_length=256) or ""
    from_ = text_field(body, "from", max_length=256)
    caller_id = text_field(body, "caller_id", max_length=256)
    sip_domain = text_field(body, "sip_domain", max_length=255)
    campaign = text_field(body, "campaign", max_length=64)
    call_sid = text_field(body, "call_sid", max_length=64)
    reserve, reserve_seconds = _reservation_fields(body)
    if reserve and not call_sid:
        call_sid = f"cg-{uuid.uuid4().hex}"
    state = current_state()
    decision = state.guard.check(
        DialRequest(
            account_sid=account_sid,
            to=to,
            from_=from_,
            caller_id=caller_id,
            sip_domain=sip_domain,
            campaign=campaign,
            call_sid=call_sid,
            source="api",
            what_if=not reserve,
            hold_seconds=reserve_seconds if reserve else None,
        )
    )
    answer = decision.as_dict()
    if reserve and "traffic" in decision.checks and decision.action is not Action.REJECT:
        # The traffic check counted the call: its end, reported here, frees what it took.
        url = status_callback_url(callback_base(state), decision.campaign)
        answer["reservation"] = {
            "slot": call_sid,
            "expires_at": decision.decided_at + reserve_seconds,
            "status_callback": url + ("&" if "?" in url else "?") + urlencode({"slot": call_sid}),
        }
    return jsonify(answer)


def api_routing_error() -> Response | None:
    """An app-wide ``before_request`` hook: the JSON error for a path under /v1 that matched no
    route (404) or not with this method (405); None for every other request.

    Routing errors never reach a blueprint's error handlers, and an app-wide error handler would
    replace the host app's own: the routing error is answered here, before the request is
    dispatched, and the host's handlers keep every other path.
    """
    failure = request.routing_exception
    if failure is None or not request.path.startswith(API_PREFIX + "/"):
        return None
    if isinstance(failure, MethodNotAllowed):
        response = error_response(405, "method_not_allowed", failure.description or "method not allowed")
        response.headers["Allow"] = ", ".join(failure.valid_methods or ())
        return response
    if isinstance(failure, NotFound):
        return error_response(404, "not_found", failure.description or "not found")
    return None  # a redirect to the canonical URL, say: werkzeug's own answer


@api.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.field)


@api.errorhandler(Exception)
def _fault(exc: Exception) -> Response:
    if isinstance(exc, HTTPException) and exc.code is not None and exc.code < 500:
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(exc.code, "bad_request")
        return error_response(exc.code, code, exc.description or code)
    if isinstance(exc, StoreUnavailable):
        log.error("API: %s", exc)
        return error_response(503, "store_unavailable", str(exc))
    if isinstance(exc, CallguardError):
        return error_response(400, "bad_request", str(exc))
    log.exception("API fault")
    return error_response(500, "internal", "internal error")
