"""``/v1/accounts``: the policy's accounts with their effective settings (runtime changes
applied), and suspending or resuming one (with its subaccounts).

Writes need a read-write token; each is recorded in the change log with the token's name, and
is applied to this worker at once and to every other worker and host within a second.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ...policy.model import Account, Permission
from ...store.overrides import PERMISSION_FIELDS
from ..state import current_state
from .api import actor, api, applied, endpoint, write_time
from .fields import account_named, json_body, text_field


def permission_json(permission: Permission) -> dict[str, bool]:
    return {field: getattr(permission, field) for field in PERMISSION_FIELDS}


def account_json(account: Account) -> dict[str, Any]:
    return {
        "sid": account.sid,
        "name": account.name,
        "parent": account.parent,
        "lineage": list(account.lineage),
        "suspended": account.suspended,
        "suspended_by": account.suspended_by,
        "suspension_reason": account.suspension_reason,
        "default_region": account.default_region,
        "outside_line_prefix": account.outside_line_prefix,
        "caller_ids": sorted(account.caller_ids),
        "default_caller_id": account.default_caller_id,
        "default_campaign": account.default_campaign,
        "permissions": {key: permission_json(p) for key, p in sorted(account.permissions.items())},
    }


@api.get("/accounts")
@endpoint()
def list_accounts() -> Response:
    policy = current_state().guard.policy
    return jsonify({"accounts": [account_json(a) for _, a in sorted(policy.accounts.items())]})


@api.get("/accounts/<sid>")
@endpoint()
def get_account(sid: str) -> Response:
    return jsonify(account_json(account_named(current_state(), sid)))


@api.post("/accounts/<sid>/suspend")
@endpoint(write=True)
def suspend_account(sid: str) -> Response:
    state = current_state()
    account_named(state, sid)
    reason = text_field(json_body(), "reason", required=True, max_length=500)
    state.overrides.set_suspended(sid, True, reason=reason, actor=actor(), now=write_time(state))
    applied(state)
    return jsonify(account_json(account_named(state, sid)))


@api.post("/accounts/<sid>/resume")
@endpoint(write=True)
def resume_account(sid: str) -> Response:
    state = current_state()
    account_named(state, sid)
    state.overrides.set_suspended(sid, False, reason=None, actor=actor(), now=write_time(state))
    applied(state)
    return jsonify(account_json(account_named(state, sid)))
