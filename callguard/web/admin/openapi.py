"""The OpenAPI 3.0 document of the JSON API, served at ``/v1/openapi.json``.

tests/web/admin/test_openapi.py runs schemathesis against it: every operation, with generated input,
must answer without a 5xx and with a body that matches the schema declared here.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ...paths import API_PREFIX
from ...traffic.complaints import REFUSAL_CODES
from ...version import __version__
from .api import api

_STR = {"type": "string"}
_NSTR = {"type": "string", "nullable": True}
_TIME = {"type": "string", "format": "date-time"}
_NTIME = {"type": "string", "format": "date-time", "nullable": True}
_BOOL = {"type": "boolean"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required if required is not None else list(properties)}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "Bad input", 401: "No valid token", 403: "Read-only token", 404: "Not found", 503: "Database unavailable"}
    return {str(code): _json(_ref("Error"), text[code]) for code in codes}


def _op(summary: str, responses: dict[str, Any], *, params: list[dict[str, Any]] | None = None, body: dict[str, Any] | None = None,
        errors: tuple[int, ...] = (401,)) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": {**responses, **_errors(*errors)}, "security": [{"bearer": []}]}
    if params:
        operation["parameters"] = params
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


def _path_param(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or _STR}


def _query(name: str, schema: dict[str, Any] | None = None, *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema or _STR}


PERMISSION = _obj({f: _BOOL for f in ("low_risk", "high_risk_special", "high_risk_tollfraud", "direct_request")})
_SID = {"type": "string", "pattern": "^AC[0-9a-fA-F]{32}$"}
_ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
_ACCOUNT = _path_param("sid", _SID)
_LIMIT = _query("limit", {"type": "integer", "minimum": 1, "maximum": 10000})

SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        {"error": {"type": "object", "properties": {"code": _STR, "message": _STR, "field": _STR}, "required": ["code", "message"]}}
    ),
    "Permission": PERMISSION,
    "Account": _obj(
        {
            "sid": _STR,
            "name": _STR,
            "parent": _NSTR,
            "lineage": {"type": "array", "items": _STR},
            "suspended": _BOOL,
            "suspended_by": _NSTR,
            "suspension_reason": _NSTR,
            "default_region": _STR,
            "outside_line_prefix": _NSTR,
            "caller_ids": {"type": "array", "items": _STR},
            "default_caller_id": _NSTR,
            "default_campaign": _NSTR,
            "permissions": {"type": "object", "additionalProperties": _ref("Permission")},
        }
    ),
    "PrefixBlock": _obj(
        {
            "id": {"type": "integer", "nullable": True},
            "origin": {"type": "string", "enum": ["policy", "runtime"]},
            "prefix": _STR,
            "account_sid": _NSTR,
            "reason": _STR,
            "expires_at": _NTIME,
            "created_at": _NTIME,
            "created_by": _NSTR,
        }
    ),
    "OptOut": _obj(
        {"number": _STR, "account_sid": _STR, "campaign": _STR, "source": _STR, "created_at": _TIME, "call_sid": _NSTR, "note": _NSTR}
    ),
    "Consent": _obj(
        {
            "id": {"type": "integer"},
            "number": _STR,
            "account_sid": _STR,
            "campaign": _STR,
            "kind": _STR,
            "obtained_at": _TIME,
            "expires_at": _NTIME,
            "evidence": _NSTR,
            "revoked_at": _NTIME,
        }
    ),
    "Complaint": _obj(
        {
            "id": {"type": "integer"},
            "number": _STR,
            "caller_id": _STR,
            "account_sid": _STR,
            "family": _STR,
            "campaign": _NSTR,
            "source": {"type": "string", "enum": ["consumer", "carrier", "regulator", "other"]},
            "received_at": _TIME,
            "created_at": _TIME,
            "note": _NSTR,
        }
    ),
    "Campaign": _obj(
        {
            "id": _STR,
            "purpose": {"type": "string", "enum": ["telemarketing", "informational"]},
            "organization": _STR,
            "disclosure": _NSTR,
            "disclosure_url": _NSTR,
            "language": _STR,
            "opt_out_digit": _STR,
            "opt_out_scope": {"type": "string", "enum": ["account", "campaign"]},
            "registries": {"type": "array", "items": _STR, "nullable": True},
            "answer_urls": {"type": "array", "items": _STR},
        }
    ),
    "Decision": _obj(
        {
            "action": {"type": "string", "enum": ["connect", "reject", "disclose"]},
            "reasons": {"type": "array", "items": _STR},
            "sentence": _STR,
            "account_sid": _NSTR,
            "account_name": _NSTR,
            "call_sid": _NSTR,
            "to": _STR,
            "from": _NSTR,
            "target_kind": _STR,
            "e164": _NSTR,
            "dial": _NSTR,
            "caller_id": _NSTR,
            "region": _NSTR,
            "country_code": {"type": "integer", "nullable": True},
            "number_type": _NSTR,
            "risk": _NSTR,
            "checks": {"type": "array", "items": _STR},
            "refusals": {"type": "array", "items": _obj({"check": _STR, "code": _STR, "sentence": _STR})},
            "decided_at": {"type": "number"},
            "elapsed_us": {"type": "number"},
            "source": _STR,
            "campaign": _NSTR,
        }
    ),
    "Reservation": _obj({"slot": _STR, "expires_at": {"type": "number"}, "status_callback": _STR}),
    "DecisionRecord": _obj(
        {
            "id": {"type": "integer"},
            "decided_at": _TIME,
            "account_sid": _NSTR,
            "call_sid": _NSTR,
            "action": _STR,
            "reasons": {"type": "array", "items": _STR},
            "sentence": _STR,
            "to": _NSTR,
            "from": _NSTR,
            "e164": _NSTR,
            "caller_id": _NSTR,
            "region": _NSTR,
            "risk": _NSTR,
            "checks": {"type": "array", "items": _STR},
            "source": _NSTR,
            "campaign": _NSTR,
            "fault": _NSTR,
        }
    ),
    "Change": _obj(
        {
            "id": {"type": "integer"},
            "at": _TIME,
            "actor": _STR,
            "entity": _STR,
            "entity_id": _STR,
            "action": _STR,
            "before": {"nullable": True},
            "after": {"nullable": True},
        }
    ),
}


def _list(name: str, item: str) -> dict[str, Any]:
    return _json(_obj({name: {"type": "array", "items": _ref(item)}}))


# Each operation by its path under the blueprint's prefix (API_PREFIX), in OpenAPI's path syntax.
_OPERATIONS: dict[str, Any] = {
    "/check": {
        "post": _op(
            "Decide one dial without placing it (audited): a what-if that counts nothing, unless reserve is true",
            {"200": _json({"allOf": [_ref("Decision"), {"type": "object", "properties": {"reservation": _ref("Reservation")}}]})},
            body=_obj(
                {
                    "account_sid": _STR,
                    "to": _STR,
                    "from": _STR,
                    "caller_id": _STR,
                    "sip_domain": _STR,
                    "campaign": _STR,
                    "call_sid": _STR,
                    "reserve": {
                        "type": "boolean",
                        "default": False,
                        "description": "Count the call for real (its concurrency slot held under the answer's reservation.slot); "
                        "false: a what-if that reads the traffic counters and records nothing",
                    },
                    "reserve_seconds": {
                        "type": "number",
                        "minimum": 1,
                        "maximum": 14400,
                        "default": 60,
                        "description": "How long a reserved slot is held unless reservation.status_callback reports the call's end",
                    },
                },
                ["account_sid", "to"],
            ),
            errors=(400, 401),
        )
    },
    "/accounts": {"get": _op("Accounts with their effective settings", {"200": _list("accounts", "Account")})},
    "/accounts/{sid}": {
        "parameters": [_ACCOUNT],
        "get": _op("One account", {"200": _json(_ref("Account"))}, errors=(401, 404)),
    },
    "/accounts/{sid}/permissions/{geo_key}": {
        "parameters": [_ACCOUNT, _path_param("geo_key", {"type": "string", "pattern": "^([A-Z]{2}|\\+[0-9]{3})$"})],
        "put": _op(
            "Set a country's permission at runtime",
            {"200": _json(_ref("Account"))},
            body=PERMISSION | {"required": []},
            errors=(400, 401, 403, 404),
        ),
        "delete": _op(
            "Remove the runtime permission (the policy file's applies again)", {"200": _json(_ref("Account"))}, errors=(400, 401, 403, 404)
        ),
    },
    "/accounts/{sid}/suspend": {
        "parameters": [_ACCOUNT],
        "post": _op(
            "Suspend an account and its subaccounts",
            {"200": _json(_ref("Account"))},
            body=_obj({"reason": _STR}),
            errors=(400, 401, 403, 404),
        ),
    },
    "/accounts/{sid}/resume": {
        "parameters": [_ACCOUNT],
        "post": _op("Lift a suspension", {"200": _json(_ref("Account"))}, errors=(401, 403, 404)),
    },
    "/prefix-blocks": {
        "get": _op("Blocked prefixes (policy file and runtime)", {"200": _list("prefix_blocks", "PrefixBlock")}),
        "post": _op(
            "Block a prefix",
            {"201": _json(_ref("PrefixBlock"), "Created")},
            body=_obj({"prefix": _STR, "account_sid": _STR, "reason": _STR, "expires_at": _TIME}, ["prefix", "reason"]),
            errors=(400, 401, 403, 404),
        ),
    },
    "/prefix-blocks/{id}": {
        "parameters": [_path_param("id", _ID)],
        "delete": _op("Lift a runtime block", {"200": _json(_obj({"id": {"type": "integer"}, "lifted": _BOOL}))}, errors=(401, 403, 404)),
    },
    "/optouts": {
        "get": _op(
            "Opt-outs",
            {"200": _list("optouts", "OptOut")},
            params=[_query("account_sid"), _query("number"), _LIMIT],
            errors=(400, 401, 404),
        ),
        "post": _op(
            "Record an opt-out",
            {"201": _json(_ref("OptOut"), "Created"), "200": _json(_ref("OptOut"), "Already recorded")},
            body=_obj({"number": _STR, "account_sid": _STR, "campaign": _STR, "note": _STR}, ["number", "account_sid"]),
            errors=(400, 401, 403, 404),
        ),
        "delete": _op(
            "Delete an opt-out recorded in error",
            {"200": _json(_obj({"number": _STR, "account_sid": _STR, "deleted": _BOOL}))},
            params=[_query("account_sid", required=True), _query("number", required=True), _query("campaign")],
            errors=(400, 401, 403, 404),
        ),
    },
    "/consents": {
        "get": _op(
            "Consent records", {"200": _list("consents", "Consent")}, params=[_query("account_sid"), _query("number")], errors=(401, 404)
        ),
        "post": _op(
            "Record consent",
            {"201": _json(_ref("Consent"), "Created")},
            body=_obj(
                {
                    "number": _STR,
                    "account_sid": _STR,
                    "kind": _STR,
                    "obtained_at": _TIME,
                    "expires_at": _TIME,
                    "campaign": _STR,
                    "evidence": _STR,
                },
                ["number", "account_sid", "obtained_at"],
            ),
            errors=(400, 401, 403, 404),
        ),
    },
    "/consents/{id}/revoke": {
        "parameters": [_path_param("id", _ID)],
        "post": _op("Revoke consent", {"200": _json(_obj({"id": {"type": "integer"}, "revoked": _BOOL}))}, errors=(400, 401, 403, 404)),
    },
    "/complaints": {
        "get": _op(
            "Complaints, newest first (format=csv for a CSV export)",
            {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": {"schema": _obj({"complaints": {"type": "array", "items": _ref("Complaint")}})},
                        "text/csv": {"schema": _STR},
                    },
                }
            },
            params=[
                _query("account_sid"),
                _query("caller_id"),
                _query("campaign"),
                _query("since", _TIME),
                _LIMIT,
                _query("before_id", _ID),
                _query("format", {"type": "string", "enum": ["json", "csv"]}),
            ],
            errors=(400, 401, 404),
        ),
        "post": _op(
            "Record a complaint: the callee is opted out across the account family, and the complaint counts towards "
            "the [traffic.complaints] thresholds",
            {
                "201": _json(
                    {
                        "allOf": [
                            _ref("Complaint"),
                            _obj({"fired": {"type": "array", "items": {"type": "string", "enum": list(REFUSAL_CODES.values())}}}),
                        ]
                    },
                    "Created",
                )
            },
            body=_obj(
                {
                    "number": _STR,
                    "caller_id": _STR,
                    "account_sid": _STR,
                    "campaign": _STR,
                    "source": {"type": "string", "enum": ["consumer", "carrier", "regulator", "other"]},
                    "received_at": _TIME,
                    "note": {"type": "string", "maxLength": 1000},
                },
                ["number", "caller_id", "account_sid", "source"],
            ),
            errors=(400, 401, 403, 404),
        ),
    },
    "/campaigns": {"get": _op("Campaigns", {"200": _list("campaigns", "Campaign")})},
    "/campaigns/{campaign_id}": {
        "parameters": [_path_param("campaign_id")],
        "get": _op("One campaign", {"200": _json(_ref("Campaign"))}, errors=(401, 404)),
    },
    "/decisions": {
        "get": _op(
            "Audited decisions, newest first (format=csv for a CSV export)",
            {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": {"schema": _obj({"decisions": {"type": "array", "items": _ref("DecisionRecord")}})},
                        "text/csv": {"schema": _STR},
                    },
                }
            },
            params=[
                _query("since", _TIME),
                _query("until", _TIME),
                _query("number"),
                _query("account_sid"),
                _query("reason"),
                _query("action", {"type": "string", "enum": ["connect", "reject", "disclose"]}),
                _LIMIT,
                _query("before_id", _ID),
                _query("format", {"type": "string", "enum": ["json", "csv"]}),
            ],
            errors=(400, 401),
        )
    },
    "/changes": {
        "get": _op(
            "The change log: who changed what, when, from what to what",
            {"200": _list("changes", "Change")},
            params=[_query("entity"), _LIMIT],
            errors=(400, 401),
        ),
    },
}

PATHS: dict[str, Any] = {API_PREFIX + path: item for path, item in _OPERATIONS.items()}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "callguard", "version": __version__, "description": "Decisions and administration of callguard."},
        "paths": PATHS,
        "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


@api.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(openapi_document())
