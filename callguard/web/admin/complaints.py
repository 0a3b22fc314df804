"""``/v1/complaints``: complaints about calls. Recording one opts the callee out across the
calling account's family (the answer comes once both are committed) and counts towards the
``[traffic.complaints]`` thresholds; the list is newest first, filtered and paged, as JSON or
as a CSV export (whose cells no spreadsheet reads as formulas: :mod:`callguard.csv_cells`)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from ...numbers.e164 import valid_e164
from ...records import COMPLAINT_SOURCES, Complaint
from ...runtime.complaints import record_complaints
from ...store.complaints import NewComplaint
from ...traffic.complaints import EVENT_KINDS, REFUSAL_CODES
from ..state import current_state
from .api import ApiError, actor, api, endpoint, write_time
from .fields import MAX_ID, account_named, iso, json_body, limit, parse_time, phone_number, text_field
from .listing import list_response

COMPLAINT_FIELDS = ("id", "number", "caller_id", "account_sid", "family", "campaign", "source", "received_at", "created_at", "note")
MAX_NOTE = 1000
FUTURE_SLACK = 300.0  # seconds a received_at may lie ahead of this host's clock


def complaint_json(c: Complaint) -> dict[str, Any]:
    return {
        "id": c.id,
        "number": c.number,
        "caller_id": c.caller_id,
        "account_sid": c.account_sid,
        "family": c.family,
        "campaign": c.campaign,
        "source": c.source,
        "received_at": iso(c.received_at),
        "created_at": iso(c.created_at),
        "note": c.note,
    }


@api.post("/complaints")
@endpoint(write=True)
def create_complaint() -> Response:
    state = current_state()
    body = json_body()
    account = account_named(state, text_field(body, "account_sid", required=True, max_length=34) or "")
    number = phone_number(body, account)
    caller_id = phone_number(body, account, "caller_id")
    campaign = text_field(body, "campaign", max_length=64)
    policy = state.guard.policy
    if campaign is not None and policy.campaign(campaign) is None:
        raise ApiError(400, "bad_request", f"campaign: {campaign!r} is not a campaign in the policy", "campaign")
    source = body.get("source")
    if source not in COMPLAINT_SOURCES:
        raise ApiError(400, "bad_request", f"source must be one of {', '.join(COMPLAINT_SOURCES)}", "source")
    now = write_time(state)
    received_at = parse_time(body["received_at"], "received_at") if body.get("received_at") is not None else now
    if received_at > now + FUTURE_SLACK:
        raise ApiError(400, "bad_request", "received_at is in the future", "received_at")
    note = text_field(body, "note", max_length=MAX_NOTE)
    new = NewComplaint(number, caller_id, account.sid, account.family, campaign, source, received_at, note)
    (complaint,), events = record_complaints(state.complaints, state.traffic, policy, [new], now=now, actor=actor())
    fired = [REFUSAL_CODES[kind] for kind, event_kind in EVENT_KINDS.items() if any(e.kind == event_kind for e in events)]
    response = jsonify({**complaint_json(complaint), "fired": fired})
    response.status_code = 201
    return response


@api.get("/complaints")
@endpoint()
def list_complaints() -> Response:
    state = current_state()
    args = request.args
    policy = state.guard.policy
    account = account_named(state, args["account_sid"]) if args.get("account_sid") else None
    caller_id = args.get("caller_id")
    if caller_id is not None:
        region = account.default_region if account is not None else policy.defaults.default_region
        caller_id = valid_e164(caller_id, region) or caller_id
    before_id = args.get("before_id")
    if before_id is not None and (not before_id.isdigit() or not 1 <= int(before_id) <= MAX_ID):
        raise ApiError(400, "bad_request", f"before_id must be a whole number from 1 to {MAX_ID}", "before_id")
    found = state.complaints.list(
        account_sid=account.sid if account is not None else None,
        caller_id=caller_id,
        campaign=args.get("campaign") or None,
        since=parse_time(args["since"], "since") if "since" in args else None,
        before_id=int(before_id) if before_id is not None else None,
        limit=limit(),
    )
    return list_response("complaints", COMPLAINT_FIELDS, [complaint_json(c) for c in found])
