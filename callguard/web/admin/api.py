"""The JSON API under ``/v1``: the blueprint every resource registers on, authentication, the
bookkeeping of a write, and errors.

Every answer is JSON (``application/json``); errors are ``{"error": {"code", "message", "field"}}``
with 400 (bad input), 401 (no or unknown token), 403 (read-only token on a write), 404, 405, 409
or 413 — never a 5xx for bad input. The document describing it is at ``/v1/openapi.json``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from ...errors import CallguardError, StoreUnavailable
from ...loggers import get_logger
from ...paths import API_PREFIX
from ...runtime.admin_tokens import ApiToken
from ..body_limit import limit_body
from ..state import CallguardState, current_state
from .tokens import authenticate

log = get_logger("callguard.api")

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
    """Who a write is recorded as having made: the request's token, by name."""
    token: ApiToken = g.callguard_token
    return f"api:{token.name}"


def write_time(state: CallguardState) -> float:
    """The time a write is recorded at (the guard's clock, so that tests set it)."""
    return state.guard.clock()


def applied(state: CallguardState) -> None:
    """After a write: the change takes effect in this worker at once, in the others within a second."""
    state.refresher.refresh_now()


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
