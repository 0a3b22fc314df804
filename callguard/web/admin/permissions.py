"""``/v1/accounts/<sid>/permissions/<geo_key>``: a country's (or non-geographic calling
code's) dialing permission set at runtime over the policy file's, or removed again.

Writes need a read-write token; each is recorded in the change log with the token's name, and
is applied to this worker at once and to every other worker and host within a second.
"""

from __future__ import annotations

import phonenumbers
from flask import Response, jsonify

from ...policy.accounts import NON_GEO_KEYS
from ...policy.model import Permission
from ...store.overrides import PERMISSION_FIELDS
from ..state import current_state
from .accounts import account_json
from .api import ApiError, actor, api, applied, endpoint, write_time
from .fields import account_named, json_body


def _geo_key(geo_key: str) -> str:
    if geo_key not in NON_GEO_KEYS and geo_key not in phonenumbers.SUPPORTED_REGIONS:
        raise ApiError(400, "bad_request", f"{geo_key!r} is not a region code or non-geographic calling code", "geo_key")
    return geo_key


@api.put("/accounts/<sid>/permissions/<geo_key>")
@endpoint(write=True)
def put_permission(sid: str, geo_key: str) -> Response:
    state = current_state()
    account_named(state, sid)
    body = json_body()
    values = {}
    for field in PERMISSION_FIELDS:
        value = body.get(field, False)
        if not isinstance(value, bool):
            raise ApiError(400, "bad_request", f"{field} must be true or false", field)
        values[field] = value
    unknown = sorted(set(body) - set(PERMISSION_FIELDS))
    if unknown:
        raise ApiError(400, "bad_request", f"unknown field {unknown[0]!r}", unknown[0])
    permission = Permission(**values)
    for high in ("high_risk_special", "high_risk_tollfraud"):
        if getattr(permission, high) and not permission.low_risk:
            raise ApiError(400, "bad_request", f"{high} needs low_risk (as in Twilio's Geo Permissions)", high)
    state.overrides.set_permission(sid, _geo_key(geo_key), permission, actor=actor(), now=write_time(state))
    applied(state)
    return jsonify(account_json(account_named(state, sid)))


@api.delete("/accounts/<sid>/permissions/<geo_key>")
@endpoint(write=True)
def delete_permission(sid: str, geo_key: str) -> Response:
    state = current_state()
    account_named(state, sid)
    state.overrides.set_permission(sid, _geo_key(geo_key), None, actor=actor(), now=write_time(state))
    applied(state)
    return jsonify(account_json(account_named(state, sid)))
