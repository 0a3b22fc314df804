"""``/v1/consents``: consent records per account family (the account's root): listing,
recording and revoking."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from ...records import CONSENT_KINDS, Consent
from ..state import current_state
from .api import ApiError, actor, api, endpoint, write_time
from .fields import account_named, iso, json_body, parse_time, phone_number, record_id, text_field


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


@api.get("/consents")
@endpoint()
def list_consents() -> Response:
    state = current_state()
    account_sid = request.args.get("account_sid")
    family = account_named(state, account_sid).family if account_sid else None
    return jsonify({"consents": [consent_json(c) for c in state.consents.list(account_sid=family, number=request.args.get("number"))]})


@api.post("/consents")
@endpoint(write=True)
def create_consent() -> Response:
    state = current_state()
    body = json_body()
    account = account_named(state, text_field(body, "account_sid", required=True, max_length=34) or "")
    number = phone_number(body, account)
    kind = body.get("kind", "prior_express_written")
    if kind not in CONSENT_KINDS:
        raise ApiError(400, "bad_request", f"kind must be one of {', '.join(CONSENT_KINDS)}", "kind")
    if body.get("obtained_at") is None:
        raise ApiError(400, "bad_request", "obtained_at is required", "obtained_at")
    obtained = parse_time(body["obtained_at"], "obtained_at")
    expires = parse_time(body["expires_at"], "expires_at") if body.get("expires_at") is not None else None
    campaign = text_field(body, "campaign", max_length=64)
    evidence = text_field(body, "evidence", max_length=1000)
    now = write_time(state)
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
    if not state.consents.revoke(record_id(consent_id, "consent"), now=write_time(state), reason=reason, actor=actor()):
        raise ApiError(404, "not_found", f"no consent {consent_id} in force")
    return jsonify({"id": consent_id, "revoked": True})
