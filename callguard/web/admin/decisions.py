"""``/v1/decisions``: the audited decisions, newest first, filtered and paged, as JSON or as a
CSV export (whose cells no spreadsheet reads as formulas: :mod:`callguard.csv_cells`)."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from ...numbers.e164 import valid_e164
from ...store.audit import AuditRecord
from ..state import current_state
from .api import ApiError, api, endpoint
from .fields import MAX_ID, iso, limit, parse_time
from .listing import list_response

DECISION_FIELDS = (
    "id", "decided_at", "account_sid", "call_sid", "action", "reasons", "sentence", "to", "from", "e164",
    "caller_id", "region", "risk", "checks", "source", "campaign", "fault",
)


def decision_json(r: AuditRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "decided_at": iso(r.decided_at),
        "account_sid": r.account_sid,
        "call_sid": r.call_sid,
        "action": r.action,
        "reasons": list(r.reasons),
        "sentence": r.sentence,
        "to": r.to_raw,
        "from": r.from_raw,
        "e164": r.e164,
        "caller_id": r.caller_id,
        "region": r.region,
        "risk": r.risk,
        "checks": list(r.checks),
        "source": r.source,
        "campaign": r.campaign,
        "fault": r.fault,
    }


@api.get("/decisions")
@endpoint()
def list_decisions() -> Response:
    state = current_state()
    args = request.args
    action = args.get("action")
    if action is not None and action not in ("connect", "reject", "disclose"):
        raise ApiError(400, "bad_request", "action must be connect, reject or disclose", "action")
    before_id = args.get("before_id")
    if before_id is not None and (not before_id.isdigit() or not 1 <= int(before_id) <= MAX_ID):
        raise ApiError(400, "bad_request", f"before_id must be a whole number from 1 to {MAX_ID}", "before_id")
    number = args.get("number")
    if number is not None:
        number = valid_e164(number, state.guard.policy.defaults.default_region) or number
    records = state.audit_sql.query(
        since=parse_time(args["since"], "since") if "since" in args else None,
        until=parse_time(args["until"], "until") if "until" in args else None,
        number=number,
        account_sid=args.get("account_sid"),
        reason=args.get("reason"),
        action=action,
        limit=limit(),
        before_id=int(before_id) if before_id is not None else None,
    )
    return list_response("decisions", DECISION_FIELDS, [decision_json(r) for r in records])
