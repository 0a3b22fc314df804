"""``/v1/decisions``: the audited decisions, newest first, filtered and paged, as JSON or as a
CSV export (whose cells no spreadsheet reads as formulas: :mod:`callguard.csv_cells`)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, jsonify, request

from ...csv_cells import safe_row
from ...numbers.e164 import valid_e164
from ...store.audit import AuditRecord
from ..state import current_state
from .api import ApiError, api, endpoint
from .fields import MAX_ID, iso, limit, parse_time

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
    rows = [decision_json(r) for r in records]
    if args.get("format") == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(DECISION_FIELDS)
        for row in rows:
            writer.writerow(safe_row(",".join(row[f]) if isinstance(row[f], list) else row[f] for f in DECISION_FIELDS))
        return Response(out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="decisions.csv"'})
    if args.get("format") not in (None, "json"):
        raise ApiError(400, "bad_request", "format must be json or csv", "format")
    return jsonify({"decisions": rows})
