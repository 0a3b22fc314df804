"""The values of the JSON API: reading a request's fields (each bad one a 400 naming it) and
writing times the way every answer does.

Numbers are read like dial strings, with the account's default region, and stored in E.164;
times are ISO 8601 (UTC when no offset is given) in and ``…Z`` out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import request

from ...instants import BadInstant, parse_instant
from ...numbers.e164 import valid_e164
from ...policy.model import Account
from ..state import CallguardState
from .api import ApiError

MAX_ID = 2**63 - 1  # ids are 64-bit integers in both databases
MAX_LIMIT = 10_000
MAX_DEPTH = 16  # the API's bodies nest two levels deep; far deeper is not a request it serves


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400 (its size is bounded before: 413)."""
    if not request.is_json:
        raise ApiError(400, "bad_request", "the body must be JSON (Content-Type: application/json)")
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # the parser recurses per level: 60 000 '[' exhaust the stack
        body = None
        deep = True
    else:
        deep = body is not None and depth(body) > MAX_DEPTH
    if deep:
        raise ApiError(400, "bad_request", f"the body nests more than {MAX_DEPTH} levels deep")
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object")
    return body


def depth(value: Any) -> int:
    """How deep JSON arrays and objects nest in ``value`` (a scalar: 0), without recursing."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            level += 1
            deepest = max(deepest, level)
            pending.extend((child, level) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def text_field(body: dict[str, Any], name: str, *, required: bool = False, max_length: int = 512) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(400, "bad_request", f"{name} is required", name)
        return None
    if not isinstance(value, str) or len(value) > max_length or "\x00" in value:
        raise ApiError(400, "bad_request", f"{name} must be a string of at most {max_length} characters", name)
    return value


def iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: Any, field: str) -> float:
    if not isinstance(value, str):
        raise ApiError(400, "bad_request", f"{field} must be an ISO 8601 date-time string", field)
    try:
        return parse_instant(value)
    except BadInstant as exc:
        raise ApiError(400, "bad_request", f"{field}: {exc}", field) from None


def account_named(state: CallguardState, sid: str) -> Account:
    """The policy's account ``sid``, or a 404."""
    account = state.guard.policy.account(sid)
    if account is None:
        raise ApiError(404, "not_found", f"account {sid} is not in the policy")
    return account


def phone_number(body_or_args: Any, account: Account, field: str = "number") -> str:
    """The number in ``field`` (of a JSON body or the query), read with the account's region, in E.164."""
    raw = body_or_args.get(field)
    if not isinstance(raw, str) or len(raw) > 64:
        raise ApiError(400, "bad_request", f"{field} is required: a phone number", field)
    number = valid_e164(raw, account.default_region)
    if number is None:
        raise ApiError(400, "bad_request", f"{field}: {raw!r} is not a valid phone number", field)
    return number


def record_id(value: int, what: str) -> int:
    """An id from the path: past what the databases hold it names nothing (404)."""
    if not 1 <= value <= MAX_ID:
        raise ApiError(404, "not_found", f"no {what} {value}")
    return value


def limit() -> int:
    """The query's ``limit`` (default 100)."""
    raw = request.args.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(400, "bad_request", f"limit must be a whole number from 1 to {MAX_LIMIT}", "limit")
    return int(raw)
