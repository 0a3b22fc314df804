"""``/v1/prefix-blocks``: the prefixes no call may dial, from the policy file (read-only here)
and added at runtime (with a reason and an optional expiry), and lifting a runtime one.

Writes need a read-write token; each is recorded in the change log with the token's name, and
is applied to this worker at once and to every other worker and host within a second.
"""

from __future__ import annotations

from flask import Response, jsonify

from ...numbers.risk import validate_e164_prefix
from ..state import current_state
from .api import ApiError, actor, api, applied, endpoint, write_time
from .fields import account_named, iso, json_body, parse_time, record_id, text_field


@api.get("/prefix-blocks")
@endpoint()
def list_blocks() -> Response:
    """Blocks from the policy file (no id: edit the file to change them) and runtime blocks."""
    state = current_state()
    from_file = [
        {"id": None, "origin": "policy", "prefix": b.prefix, "account_sid": b.account, "reason": b.reason,
         "expires_at": iso(b.expires), "created_at": None, "created_by": None}
        for b in state.refresher.base_policy.blocked_prefixes
    ]
    runtime = [
        {"id": b.id, "origin": "runtime", "prefix": b.prefix, "account_sid": b.account_sid, "reason": b.reason,
         "expires_at": iso(b.expires_at), "created_at": iso(b.created_at), "created_by": b.created_by}
        for b in state.overrides.blocks()
    ]
    return jsonify({"prefix_blocks": from_file + runtime})


@api.post("/prefix-blocks")
@endpoint(write=True)
def create_block() -> Response:
    state = current_state()
    body = json_body()
    prefix = text_field(body, "prefix", required=True, max_length=16) or ""
    problem = validate_e164_prefix(prefix)
    if problem:
        raise ApiError(400, "bad_request", problem, "prefix")
    account_sid = text_field(body, "account_sid", max_length=34)
    if account_sid is not None:
        account_named(state, account_sid)
    reason = text_field(body, "reason", required=True, max_length=500) or ""
    expires = parse_time(body["expires_at"], "expires_at") if body.get("expires_at") is not None else None
    block_id = state.overrides.add_block(
        prefix, account_sid=account_sid, reason=reason, expires_at=expires, actor=actor(), now=write_time(state)
    )
    applied(state)
    response = jsonify({"id": block_id, "origin": "runtime", "prefix": prefix, "account_sid": account_sid, "reason": reason,
                        "expires_at": iso(expires), "created_at": iso(write_time(state)), "created_by": actor()})
    response.status_code = 201
    return response


@api.delete("/prefix-blocks/<int:block_id>")
@endpoint(write=True)
def lift_block(block_id: int) -> Response:
    state = current_state()
    if not state.overrides.lift_block(record_id(block_id, "runtime block"), actor=actor(), now=write_time(state)):
        raise ApiError(404, "not_found", f"no runtime block {block_id} in force")
    applied(state)
    return jsonify({"id": block_id, "lifted": True})
