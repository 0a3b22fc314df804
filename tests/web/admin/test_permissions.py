"""``/v1/accounts/<sid>/permissions`` (callguard.web.admin.permissions): permissions at runtime."""

from __future__ import annotations

from typing import Any

from ...conftest import MAIN, TwilioClient, dial_params
from .conftest import RW


def test_permissions_at_runtime(app: Any, client: Any) -> None:
    twilio = TwilioClient(app.test_client())
    assert twilio.post("/voice/outbound", dial_params("+498912345678")).headers["X-Callguard-Decision"] == "reject; reasons=geo.low_risk"
    body = {"low_risk": True}
    account = client.put(f"/v1/accounts/{MAIN}/permissions/DE", json=body, headers=RW).get_json()
    assert account["permissions"]["DE"] == {
        "low_risk": True, "high_risk_special": False, "high_risk_tollfraud": False, "direct_request": False
    }
    assert twilio.post("/voice/outbound", dial_params("+498912345678")).headers["X-Callguard-Decision"] == "connect; reasons=ok"
    assert client.delete(f"/v1/accounts/{MAIN}/permissions/DE", headers=RW).get_json()["permissions"].get("DE") is None
    bad = client.put(f"/v1/accounts/{MAIN}/permissions/DE", json={"high_risk_special": True}, headers=RW)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "high_risk_special"
    assert client.put(f"/v1/accounts/{MAIN}/permissions/UK", json=body, headers=RW).status_code == 400
