"""``/v1/optouts``: the internal Do-Not-Call list, per account family (the account's root):
listing, recording and deleting an opt-out recorded in error."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from ...records import OptOut
from ..state import current_state
from .api import ApiError, actor, api, endpoint, write_time
from .fields import account_named, iso, json_body, limit, phone_number, text_field


def optout_json(o: OptOut) -> dict[str, Any]:
    return {
        "number": o.number,
        "account_sid": o.account_sid,
        "campaign": o.campaign,
        "source": o.source,
        "created_at": iso(o.created_at),
        "call_sid": o.call_sid,
        "note": o.note,
    }


@api.get("/optouts")
@endpoint()
def list_optouts() -> Response:
    state = current_state()
    account_sid = request.args.get("account_sid")
    family = account_named(state, account_sid).family if account_sid else None
    number = (
        phone_number(request.args, account_named(state, account_sid))
        if account_sid and request.args.get("number")
        else request.args.get("number")
    )
    return jsonify({"optouts": [optout_json(o) for o in state.optouts.list(account_sid=family, number=number, limit=limit())]})


@api.post("/optouts")
@endpoint(write=True)
def create_optout() -> Response:
    state = current_state()
    body = json_body()
    account = account_named(state, text_field(body, "account_sid", required=True, max_length=34) or "")
    number = phone_number(body, account)
    campaign = text_field(body, "campaign", max_length=64)
    note = text_field(body, "note", max_length=1000)
    now = write_time(state)
    added = state.optouts.add(number, account.family, campaign=campaign, source="api", now=now, note=note, actor=actor())
    found = state.optouts.find(number, account.family, campaign)
    response = jsonify(optout_json(found))  # type: ignore[arg-type]
    response.status_code = 201 if added else 200
    return response


@api.delete("/optouts")
@endpoint(write=True)
def delete_optout() -> Response:
    state = current_state()
    account = account_named(state, request.args.get("account_sid") or "")
    number = phone_number(request.args, account)
    campaign = request.args.get("campaign") or None
    if not state.optouts.remove(number, account.family, campaign=campaign, actor=actor(), now=write_time(state)):
        raise ApiError(404, "not_found", f"no opt-out of {number} for account family {account.family}")
    return jsonify({"number": number, "account_sid": account.family, "deleted": True})
