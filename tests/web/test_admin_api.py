"""The administration resources of the JSON API (callguard.web.admin.resources)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from ..conftest import ADMIN_TOKEN, MAIN, READ_TOKEN, TENANT, TwilioClient, dial_params

RW = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
RO = {"Authorization": f"Bearer {READ_TOKEN}"}


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def test_accounts(client: Any) -> None:
    accounts = client.get("/v1/accounts", headers=RO).get_json()["accounts"]
    assert [a["sid"] for a in accounts][:2] == [MAIN, TENANT]
    tenant = client.get(f"/v1/accounts/{TENANT}", headers=RO).get_json()
    assert tenant["lineage"] == [TENANT, MAIN] and tenant["permissions"]["DE"]["low_risk"] is True
    assert client.get("/v1/accounts/AC" + "9" * 32, headers=RO).status_code == 404


def test_writes_need_a_read_write_token(client: Any) -> None:
    response = client.post(f"/v1/accounts/{MAIN}/suspend", json={"reason": "x"}, headers=RO)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"


def test_suspend_and_resume_take_effect_and_are_audited(app: Any, client: Any) -> None:
    twilio = TwilioClient(app.test_client())
    account = client.post(f"/v1/accounts/{MAIN}/suspend", json={"reason": "toll fraud"}, headers=RW).get_json()
    assert account["suspended"] is True and account["suspension_reason"] == "toll fraud"
    assert twilio.post("/voice/outbound", dial_params("+14155550123")).headers["X-Callguard-Decision"] == "reject; reasons=account.suspended"
    assert client.post(f"/v1/accounts/{MAIN}/resume", headers=RW).get_json()["suspended"] is False
    assert twilio.post("/voice/outbound", dial_params("+14155550123")).headers["X-Callguard-Decision"] == "connect; reasons=ok"
    changes = client.get("/v1/changes?entity=account", headers=RO).get_json()["changes"]
    assert [(c["actor"], c["action"]) for c in changes] == [("api:admin", "resume"), ("api:admin", "suspend")]
    assert changes[0]["before"] == {"suspended": True, "reason": "toll fraud"}


def test_permissions_at_runtime(app: Any, client: Any) -> None:
    twilio = TwilioClient(app.test_client())
    assert twilio.post("/voice/outbound", dial_params("+498912345678")).headers["X-Callguard-Decision"] == "reject; reasons=geo.low_risk"
    body = {"low_risk": True}
    account = client.put(f"/v1/accounts/{MAIN}/permissions/DE", json=body, headers=RW).get_json()
    assert account["permissions"]["DE"] == {"low_risk": True, "high_risk_special": False, "high_risk_tollfraud": False, "direct_request": False}
    assert twilio.post("/voice/outbound", dial_params("+498912345678")).headers["X-Callguard-Decision"] == "connect; reasons=ok"
    assert client.delete(f"/v1/accounts/{MAIN}/permissions/DE", headers=RW).get_json()["permissions"].get("DE") is None
    bad = client.put(f"/v1/accounts/{MAIN}/permissions/DE", json={"high_risk_special": True}, headers=RW)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "high_risk_special"
    assert client.put(f"/v1/accounts/{MAIN}/permissions/UK", json=body, headers=RW).status_code == 400


def test_prefix_blocks(app: Any, client: Any) -> None:
    created = client.post("/v1/prefix-blocks", json={"prefix": "+44207946", "reason": "velocity", "expires_at": "2026-07-01T00:00:00Z"}, headers=RW)
    assert created.status_code == 201
    block = created.get_json()
    assert block["origin"] == "runtime" and block["created_by"] == "api:admin" and block["expires_at"] == "2026-07-01T00:00:00Z"
    twilio = TwilioClient(app.test_client())
    assert twilio.post("/voice/outbound", dial_params("+442079460000")).headers["X-Callguard-Decision"] == "reject; reasons=prefix.blocked"
    listed = client.get("/v1/prefix-blocks", headers=RO).get_json()["prefix_blocks"]
    assert [b["origin"] for b in listed] == ["policy", "policy", "runtime"]
    assert client.delete(f"/v1/prefix-blocks/{block['id']}", headers=RW).get_json() == {"id": block["id"], "lifted": True}
    assert client.delete(f"/v1/prefix-blocks/{block['id']}", headers=RW).status_code == 404
    assert client.post("/v1/prefix-blocks", json={"prefix": "2474", "reason": "x"}, headers=RW).get_json()["error"]["field"] == "prefix"


def test_optouts_and_consents(client: Any) -> None:
    created = client.post("/v1/optouts", json={"number": "(415) 555-0123", "account_sid": TENANT, "note": "by email"}, headers=RW)
    assert created.status_code == 201 and created.get_json()["account_sid"] == MAIN and created.get_json()["source"] == "api"
    assert client.post("/v1/optouts", json={"number": "+14155550123", "account_sid": MAIN}, headers=RW).status_code == 200
    assert [o["number"] for o in client.get(f"/v1/optouts?account_sid={MAIN}", headers=RO).get_json()["optouts"]] == ["+14155550123"]
    assert client.delete(f"/v1/optouts?account_sid={MAIN}&number=%2B14155550123", headers=RW).status_code == 200
    assert client.delete(f"/v1/optouts?account_sid={MAIN}&number=%2B14155550123", headers=RW).status_code == 404

    consent = client.post(
        "/v1/consents", json={"number": "+14155550124", "account_sid": MAIN, "obtained_at": "2026-05-01T00:00:00Z", "evidence": "doc-7"}, headers=RW
    )
    assert consent.status_code == 201 and consent.get_json()["kind"] == "prior_express_written"
    consent_id = consent.get_json()["id"]
    assert client.post(f"/v1/consents/{consent_id}/revoke", json={"reason": "asked"}, headers=RW).get_json()["revoked"] is True
    assert client.post(f"/v1/consents/{consent_id}/revoke", headers=RW).status_code == 404
    assert client.post("/v1/consents", json={"number": "+14155550124", "account_sid": MAIN}, headers=RW).get_json()["error"]["field"] == "obtained_at"
    changes = client.get("/v1/changes", headers=RO).get_json()["changes"]
    assert [c["entity"] for c in changes] == ["consent", "consent", "optout", "optout"]


def test_decisions_query_and_csv_export(app: Any, client: Any) -> None:
    twilio = TwilioClient(app.test_client())
    twilio.post("/voice/outbound", dial_params("+14155550123", CallSid="CA-ok"))
    twilio.post("/voice/outbound", dial_params("+18765550100", CallSid="CA-jm"))
    twilio.post("/voice/outbound", dial_params("+14155550191", from_="+14155550177", CallSid="CA-two"))
    decisions = client.get("/v1/decisions", headers=RO).get_json()["decisions"]
    assert [d["call_sid"] for d in decisions] == ["CA-two", "CA-jm", "CA-ok"]
    by_reason = client.get("/v1/decisions?reason=callerid.not_owned", headers=RO).get_json()["decisions"]
    assert [d["call_sid"] for d in by_reason] == ["CA-two"]
    assert client.get("/v1/decisions?reason=callerid", headers=RO).get_json()["decisions"] == []  # whole codes only
    # Numbers are read like dial strings, with the default region.
    assert [d["call_sid"] for d in client.get("/v1/decisions?number=876-555-0100&action=reject", headers=RO).get_json()["decisions"]] == ["CA-jm"]
    assert client.get("/v1/decisions?number=%2B18765550100&action=connect", headers=RO).get_json()["decisions"] == []
    page = client.get(f"/v1/decisions?limit=1&before_id={decisions[0]['id']}", headers=RO).get_json()["decisions"]
    assert [d["call_sid"] for d in page] == ["CA-jm"]
    exported = client.get("/v1/decisions?format=csv", headers=RO)
    assert exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0]["call_sid"] == "CA-two" and rows[0]["reasons"] == "prefix.blocked,callerid.not_owned"
    assert client.get("/v1/decisions?since=yesterday", headers=RO).status_code == 400
    assert client.get("/v1/decisions?limit=0", headers=RO).status_code == 400


def test_campaigns_and_openapi(client: Any) -> None:
    assert client.get("/v1/campaigns", headers=RO).get_json() == {"campaigns": []}
    assert client.get("/v1/campaigns/x", headers=RO).status_code == 404
    document = client.get("/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.0") and "/v1/check" in document["paths"]
