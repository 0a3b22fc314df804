"""The administration resources of the JSON API: accounts and their permissions, suspensions,
prefix blocks, opt-outs, consent, campaigns, decisions and the change log.

Writes need a read-write token; each is recorded in the change log with the token's name, and
is applied to this worker at once and to every other worker and host within a second.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Any

import phonenumbers
from flask import Response, jsonify, request

from ...numbers.risk import validate_e164_prefix
from ...policy.model import Account, Campaign, Permission
from ...cli.records import normalize_number
from ...policy.loader import NON_GEO_KEYS
from ...store.audit import AuditRecord
from ...records import CONSENT_KINDS, Consent, OptOut
from ...store.overrides import PERMISSION_FIELDS
from ..state import CallguardState, current_state
from .api import ApiError, actor, api, endpoint, json_body, text_field


def iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def parse_time(value: Any, field: str) -> float:
    if not isinstance(value, str):
        raise ApiError(400, "bad_request", f"{field} must be an ISO 8601 date-time string", field)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "bad_request", f"{field}: {value!r} is not an ISO 8601 date-time", field) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


def _state_after_write(state: CallguardState) -> None:
    state.refresher.refresh_now()  # this worker at once; the others within a second


def _now(state: CallguardState) -> float:
    return state.guard.clock()


def _account(state: CallguardState, sid: str) -> Account:
    account = state.guard.policy.account(sid)
    if account is None:
        raise ApiError(404, "not_found", f"account {sid} is not in the policy")
    return account


def _number(body_or_args: Any, account: Account, field: str = "number") -> str:
    raw = body_or_args.get(field)
    if not isinstance(raw, str) or len(raw) > 64:
        raise ApiError(400, "bad_request", f"{field} is required: a phone number", field)
    number = normalize_number(raw, account.default_region)
    if number is None:
        raise ApiError(400, "bad_request", f"{field}: {raw!r} is not a valid phone number", field)
    return number


MAX_ID = 2**63 - 1  # ids are 64-bit integers in both databases


def _id(value: int, what: str) -> int:
    if not 1 <= value <= MAX_ID:
        raise ApiError(404, "not_found", f"no {what} {value}")
    return value


def _limit() -> int:
    raw = request.args.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        raise ApiError(400, "bad_request", "limit must be a whole number from 1 to 10000", "limit")
    return int(raw)


# -- representations -------------------------------------------------------------------------


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


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "purpose": campaign.purpose.value,
        "organization": campaign.organization,
        "disclosure": campaign.disclosure_text,
        "disclosure_url": campaign.disclosure_audio_url,
        "language": campaign.language,
        "opt_out_digit": campaign.opt_out_digit,
        "opt_out_scope": campaign.opt_out_scope.value,
        "registries": list(campaign.registries) if campaign.registries is not None else None,
        "answer_urls": list(campaign.answer_urls),
    }


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


def consent_json(c: Consent) -> dict[str, Any]:
    return {
        "id": c.id,
        "number": c.number,
        "account_sid": c.account_sid,
        "campaign": c.campaign,
        "kind": c.kind,
        "obtained_at": iso(c.obtained_at),
        "expires_at": iso(c.expires_at),
        "evidence": c.evidence,
        "revoked_at": iso(c.revoked_at),
    }


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


# -- accounts ---------------------------------------------------------------------------------


@api.get("/accounts")
@endpoint()
def list_accounts() -> Response:
    policy = current_state().guard.policy
    return jsonify({"accounts": [account_json(a) for _, a in sorted(policy.accounts.items())]})


@api.get("/accounts/<sid>")
@endpoint()
def get_account(sid: str) -> Response:
    return jsonify(account_json(_account(current_state(), sid)))


def _geo_key(geo_key: str) -> str:
    if geo_key not in NON_GEO_KEYS and geo_key not in phonenumbers.SUPPORTED_REGIONS:
        raise ApiError(400, "bad_request", f"{geo_key!r} is not a region code or non-geographic calling code", "geo_key")
    return geo_key


@api.put("/accounts/<sid>/permissions/<geo_key>")
@endpoint(write=True)
def put_permission(sid: str, geo_key: str) -> Response:
    state = current_state()
    _account(state, sid)
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
    state.overrides.set_permission(sid, _geo_key(geo_key), permission, actor=actor(), now=_now(state))
    _state_after_write(state)
    return jsonify(account_json(_account(state, sid)))


@api.delete("/accounts/<sid>/permissions/<geo_key>")
@endpoint(write=True)
def delete_permission(sid: str, geo_key: str) -> Response:
    state = current_state()
    _account(state, sid)
    state.overrides.set_permission(sid, _geo_key(geo_key), None, actor=actor(), now=_now(state))
    _state_after_write(state)
    return jsonify(account_json(_account(state, sid)))


@api.post("/accounts/<sid>/suspend")
@endpoint(write=True)
def suspend_account(sid: str) -> Response:
    state = current_state()
    _account(state, sid)
    reason = text_field(json_body(), "reason", required=True, max_length=500)
    state.overrides.set_suspended(sid, True, reason=reason, actor=actor(), now=_now(state))
    _state_after_write(state)
    return jsonify(account_json(_account(state, sid)))


@api.post("/accounts/<sid>/resume")
@endpoint(write=True)
def resume_account(sid: str) -> Response:
    state = current_state()
    _account(state, sid)
    state.overrides.set_suspended(sid, False, reason=None, actor=actor(), now=_now(state))
    _state_after_write(state)
    return jsonify(account_json(_account(state, sid)))


# -- prefix blocks ------------------------------------------------------------------------------


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
        _account(state, account_sid)
    reason = text_field(body, "reason", required=True, max_length=500) or ""
    expires = parse_time(body["expires_at"], "expires_at") if body.get("expires_at") is not None else None
    block_id = state.overrides.add_block(prefix, account_sid=account_sid, reason=reason, expires_at=expires, actor=actor(), now=_now(state))
    _state_after_write(state)
    response = jsonify({"id": block_id, "origin": "runtime", "prefix": prefix, "account_sid": account_sid, "reason": reason,
                        "expires_at": iso(expires), "created_at": iso(_now(state)), "created_by": actor()})
    response.status_code = 201
    return response


@api.delete("/prefix-blocks/<int:block_id>")
@endpoint(write=True)
def lift_block(block_id: int) -> Response:
    state = current_state()
    if not state.overrides.lift_block(_id(block_id, "runtime block"), actor=actor(), now=_now(state)):
        raise ApiError(404, "not_found", f"no runtime block {block_id} in force")
    _state_after_write(state)
    return jsonify({"id": block_id, "lifted": True})


# -- opt-outs and consent ---------------------------------------------------------------------


@api.get("/optouts")
@endpoint()
def list_optouts() -> Response:
    state = current_state()
    account_sid = request.args.get("account_sid")
    family = _account(state, account_sid).family if account_sid else None
    number = _number(request.args, _account(state, account_sid)) if account_sid and request.args.get("number") else request.args.get("number")
    return jsonify({"optouts": [optout_json(o) for o in state.optouts.list(account_sid=family, number=number, limit=_limit())]})


@api.post("/optouts")
@endpoint(write=True)
def create_optout() -> Response:
    state = current_state()
    body = json_body()
    account = _account(state, text_field(body, "account_sid", required=True, max_length=34) or "")
    number = _number(body, account)
    campaign = text_field(body, "campaign", max_length=64)
    note = text_field(body, "note", max_length=1000)
    now = _now(state)
    added = state.optouts.add(number, account.family, campaign=campaign, source="api", now=now, note=note, actor=actor())
    found = state.optouts.find(number, account.family, campaign)
    response = jsonify(optout_json(found))  # type: ignore[arg-type]
    response.status_code = 201 if added else 200
    return response


@api.delete("/optouts")
@endpoint(write=True)
def delete_optout() -> Response:
    state = current_state()
    account = _account(state, request.args.get("account_sid") or "")
    number = _number(request.args, account)
    campaign = request.args.get("campaign") or None
    if not state.optouts.remove(number, account.family, campaign=campaign, actor=actor(), now=_now(state)):
        raise ApiError(404, "not_found", f"no opt-out of {number} for account family {account.family}")
    return jsonify({"number": number, "account_sid": account.family, "deleted": True})


@api.get("/consents")
@endpoint()
def list_consents() -> Response:
    state = current_state()
    account_sid = request.args.get("account_sid")
    family = _account(state, account_sid).family if account_sid else None
    return jsonify({"consents": [consent_json(c) for c in state.consents.list(account_sid=family, number=request.args.get("number"))]})


@api.post("/consents")
@endpoint(write=True)
def create_consent() -> Response:
    state = current_state()
    body = json_body()
    account = _account(state, text_field(body, "account_sid", required=True, max_length=34) or "")
    number = _number(body, account)
    kind = body.get("kind", "prior_express_written")
    if kind not in CONSENT_KINDS:
        raise ApiError(400, "bad_request", f"kind must be one of {', '.join(CONSENT_KINDS)}", "kind")
    if body.get("obtained_at") is None:
        raise ApiError(400, "bad_request", "obtained_at is required", "obtained_at")
    obtained = parse_time(body["obtained_at"], "obtained_at")
    expires = parse_time(body["expires_at"], "expires_at") if body.get("expires_at") is not None else None
    campaign = text_field(body, "campaign", max_length=64)
    evidence = text_field(body, "evidence", max_length=1000)
    now = _now(state)
    consent_id = state.consents.add(
        number, account.family, kind=kind, obtained_at=obtained, expires_at=expires, campaign=campaign, evidence=evidence, now=now,
        actor=actor(),
    )
    (created,) = [c for c in state.consents.list(account_sid=account.family, number=number) if c.id == consent_id]
    response = jsonify(consent_json(created))
    response.status_code = 201
    return response


@api.post("/consents/<int:consent_id>/revoke")
@endpoint(write=True)
def revoke_consent(consent_id: int) -> Response:
    state = current_state()
    body = json_body() if request.content_length else {}
    reason = text_field(body, "reason", max_length=500) or f"revoked through the API by {actor()}"
    if not state.consents.revoke(_id(consent_id, "consent"), now=_now(state), reason=reason, actor=actor()):
        raise ApiError(404, "not_found", f"no consent {consent_id} in force")
    return jsonify({"id": consent_id, "revoked": True})


# -- campaigns, decisions, changes --------------------------------------------------------------


@api.get("/campaigns")
@endpoint()
def list_campaigns() -> Response:
    campaigns = current_state().guard.policy.campaigns
    return jsonify({"campaigns": [campaign_json(c) for _, c in sorted(campaigns.items())]})


@api.get("/campaigns/<campaign_id>")
@endpoint()
def get_campaign(campaign_id: str) -> Response:
    campaign = current_state().guard.policy.campaign(campaign_id)
    if campaign is None:
        raise ApiError(404, "not_found", f"campaign {campaign_id!r} is not in the policy")
    return jsonify(campaign_json(campaign))


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
        number = normalize_number(number, state.guard.policy.defaults.default_region) or number
    records = state.audit_sql.query(
        since=parse_time(args["since"], "since") if "since" in args else None,
        until=parse_time(args["until"], "until") if "until" in args else None,
        number=number,
        account_sid=args.get("account_sid"),
        reason=args.get("reason"),
        action=action,
        limit=_limit(),
        before_id=int(before_id) if before_id is not None else None,
    )
    rows = [decision_json(r) for r in records]
    if args.get("format") == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(DECISION_FIELDS)
        for row in rows:
            writer.writerow([",".join(row[f]) if isinstance(row[f], list) else ("" if row[f] is None else row[f]) for f in DECISION_FIELDS])
        return Response(out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="decisions.csv"'})
    if args.get("format") not in (None, "json"):
        raise ApiError(400, "bad_request", "format must be json or csv", "format")
    return jsonify({"decisions": rows})


@api.get("/changes")
@endpoint()
def list_changes() -> Response:
    changes = current_state().overrides.changes(limit=_limit(), entity=request.args.get("entity"))
    return jsonify(
        {
            "changes": [
                {"id": c.id, "at": iso(c.at), "actor": c.actor, "entity": c.entity, "entity_id": c.entity_id, "action": c.action,
                 "before": c.before, "after": c.after}
                for c in changes
            ]
        }
    )
