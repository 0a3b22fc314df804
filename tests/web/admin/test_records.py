"""``/v1/optouts`` and ``/v1/consents`` (callguard.web.admin.optouts, .consents): the records
of who may not, and who may, be called, each write in the change log."""

from __future__ import annotations

from typing import Any

from ...conftest import MAIN, TENANT
from .conftest import RO, RW


def test_optouts_and_consents(client: Any) -> None:
    created = client.post("/v1/optouts", json={"number": "(415) 555-0123", "account_sid": TENANT, "note": "by email"}, headers=RW)
    assert created.status_code == 201 and created.get_json()["account_sid"] == MAIN and created.get_json()["source"] == "api"
    assert client.post("/v1/optouts", json={"number": "+14155550123", "account_sid": MAIN}, headers=RW).status_code == 200
    assert [o["number"] for o in client.get(f"/v1/optouts?account_sid={MAIN}", headers=RO).get_json()["optouts"]] == ["+14155550123"]
    assert client.delete(f"/v1/optouts?account_sid={MAIN}&number=%2B14155550123", headers=RW).status_code == 200
    assert client.delete(f"/v1/optouts?account_sid={MAIN}&number=%2B14155550123", headers=RW).status_code == 404

    consent = client.post(
        "/v1/consents",
        json={"number": "+14155550124", "account_sid": MAIN, "obtained_at": "2026-05-01T00:00:00Z", "evidence": "doc-7"},
        headers=RW,
    )
    assert consent.status_code == 201 and consent.get_json()["kind"] == "prior_express_written"
    consent_id = consent.get_json()["id"]
    assert client.post(f"/v1/consents/{consent_id}/revoke", json={"reason": "asked"}, headers=RW).get_json()["revoked"] is True
    assert client.post(f"/v1/consents/{consent_id}/revoke", headers=RW).status_code == 404
    undated = client.post("/v1/consents", json={"number": "+14155550124", "account_sid": MAIN}, headers=RW)
    assert undated.get_json()["error"]["field"] == "obtained_at"
    changes = client.get("/v1/changes", headers=RO).get_json()["changes"]
    assert [c["entity"] for c in changes] == ["consent", "consent", "optout", "optout"]


def test_dates_outside_the_years_a_date_holds_are_400s_naming_the_field(client: Any) -> None:
    for field in ("obtained_at", "expires_at"):
        body = {"number": "+14155550124", "account_sid": MAIN, "obtained_at": "2026-05-01T00:00:00Z", field: "0001-01-01T00:00:00+14:00"}
        response = client.post("/v1/consents", json=body, headers=RW)
        assert response.status_code == 400 and response.get_json()["error"]["field"] == field
    block = {"prefix": "+4420", "reason": "x", "expires_at": "9999-12-31T23:59:59-14:00"}
    response = client.post("/v1/prefix-blocks", json=block, headers=RW)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "expires_at"
