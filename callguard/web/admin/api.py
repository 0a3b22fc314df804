"""The JSON API under ``/v1``: the blueprint, authentication, errors, and ``POST /v1/check``.

Every answer is JSON (``application/json``); errors are ``{"error": {"code", "message", "field"}}``
with 400 (bad input), 401 (no or unknown token), 403 (read-only token on a write), 404, 405, 409
or 413 — never a 5xx for bad input. The document describing it is at ``/v1/openapi.json``.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from ...decision import DialRequest
from ...errors import CallguardError, StoreUnavailable
from ..body_limit import limit_body
from ..state import current_state
from .tokens import ApiToken, authenticate

log = logging.getLogger("callguard.api")

api = Blueprint("callguard_api", __name__, url_prefix="/v1")


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


@api.post("/check")
@endpoint()
def check() -> Response:
    """Decide one dial, as the webhook would, without placing it; the decision is audited."""
    body = json_body()
    account_sid = text_field(body, "account_sid", required=True, max_length=64)
    decision = current_state().guard.check(
        DialRequest(
            account_sid=account_sid,
            to=text_field(body, "to", required=True, max_length=256) or "",
            from_=text_field(body, "from", max_length=256),
            caller_id=text_field(body, "caller_id", max_length=256),
            sip_domain=text_field(body, "sip_domain", max_length=255),
            campaign=text_field(body, "campaign", max_length=64),
            call_sid=text_field(body, "call_sid", max_length=64),
            source="api",
        )
    )
    return jsonify(decision.as_dict())


def api_routing_error(exc: HTTPException) -> Response | HTTPException:
    """App-level 404/405 handler: JSON for paths under /v1 (routing errors never reach a
    blueprint's handlers), the app's usual answer everywhere else."""
    if request.path.startswith(api.url_prefix + "/"):  # type: ignore[operator]
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.code or 0, "bad_request")
        return error_response(exc.code or 400, code, exc.description or code)
    return exc


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
