"""``/v1/prefix-blocks`` (callguard.web.admin.prefix_blocks): runtime blocks beside the policy's."""

from __future__ import annotations

from typing import Any

from ...conftest import TwilioClient, dial_params
from .conftest import RO, RW


def test_prefix_blocks(app: Any, client: Any) -> None:
    created = client.post(
        "/v1/prefix-blocks", json={"prefix": "+44207946", "reason": "velocity", "expires_at": "2026-07-01T00:00:00Z"}, headers=RW
    )
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
