"""``POST /v1/check``: decide one dial as the webhook would, for apps that place calls through
the REST API (or are not written in Python), without placing it; the decision is audited.

A what-if by default: the traffic limits are read, nothing is counted. With ``"reserve": true``
the call is counted for real under a slot name (its ``call_sid``, else one made up), whose
concurrency slot is held for ``reserve_seconds`` unless the ``status_callback`` the answer names
reports the call's end first.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from flask import Response, jsonify

from ...decision import Action, DialRequest
from ...rendering import status_callback_url
from ..state import current_state
from ..urls import callback_base
from .api import ApiError, api, endpoint
from .fields import json_body, text_field

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
    """Decide one dial, as the webhook would, without placing it (a reservation counts it)."""
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
