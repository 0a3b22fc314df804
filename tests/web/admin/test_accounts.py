"""``/v1/accounts`` (callguard.web.admin.accounts): accounts, suspending and resuming."""

from __future__ import annotations

from typing import Any

from ...conftest import MAIN, TENANT, TwilioClient, dial_params
from .conftest import RO, RW


def test_accounts(client: Any) -> None:
    accounts = client.get("/v1/accounts", headers=RO).get_json()["accounts"]
    assert [a["sid"] for a in accounts][:2] == [MAIN, TENANT]
    tenant = client.get(f"/v1/accounts/{TENANT}", headers=RO).get_json()
    assert tenant["lineage"] == [TENANT, MAIN] and tenant["permissions"]["DE"]["low_risk"] is True
    assert client.get("/v1/accounts/AC" + "9" * 32, headers=RO).status_code == 404


def test_suspend_and_resume_take_effect_and_are_audited(app: Any, client: Any) -> None:
    twilio = TwilioClient(app.test_client())
    account = client.post(f"/v1/accounts/{MAIN}/suspend", json={"reason": "toll fraud"}, headers=RW).get_json()
    assert account["suspended"] is True and account["suspension_reason"] == "toll fraud"
    suspended = twilio.post("/voice/outbound", dial_params("+14155550123"))
    assert suspended.headers["X-Callguard-Decision"] == "reject; reasons=account.suspended"
    assert client.post(f"/v1/accounts/{MAIN}/resume", headers=RW).get_json()["suspended"] is False
    assert twilio.post("/voice/outbound", dial_params("+14155550123")).headers["X-Callguard-Decision"] == "connect; reasons=ok"
    changes = client.get("/v1/changes?entity=account", headers=RO).get_json()["changes"]
    assert [(c["actor"], c["action"]) for c in changes] == [("api:admin", "resume"), ("api:admin", "suspend")]
    assert changes[0]["before"] == {"suspended": True, "reason": "toll fraud"}
