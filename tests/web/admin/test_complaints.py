"""``/v1/complaints`` (callguard.web.admin.complaints): each bad field a 400 naming it, tokens
as for every write, the list filtered, paged and exported as CSV, each complaint in the change log."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from ...conftest import MAIN, TENANT
from .conftest import RO, RW

GOOD = {"number": "+14155550123", "caller_id": "+14155550100", "account_sid": TENANT, "source": "carrier"}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"number": "12"}, "number"),
        ({"number": None}, "number"),
        ({"caller_id": "not a number"}, "caller_id"),
        ({"caller_id": None}, "caller_id"),
        ({"source": "neighbour"}, "source"),
        ({"source": None}, "source"),
        ({"campaign": "winter"}, "campaign"),
        ({"received_at": "yesterday"}, "received_at"),
        ({"received_at": "2999-01-01T00:00:00Z"}, "received_at"),
        ({"note": "x" * 1001}, "note"),
        ({"account_sid": None}, "account_sid"),
    ],
)
def test_a_bad_field_is_a_400_naming_it(client: Any, change: dict[str, Any], field: str) -> None:
    response = client.post("/v1/complaints", json={**GOOD, **change}, headers=RW)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field
    assert client.get("/v1/complaints", headers=RO).get_json()["complaints"] == []


def test_tokens(client: Any) -> None:
    assert client.post("/v1/complaints", json=GOOD).status_code == 401
    assert client.post("/v1/complaints", json=GOOD, headers=RO).status_code == 403
    assert client.get("/v1/complaints").status_code == 401
    unknown = client.post("/v1/complaints", json={**GOOD, "account_sid": "AC" + "e" * 32}, headers=RW)
    assert unknown.status_code == 404


def test_recorded_listed_filtered_paged_and_exported(client: Any) -> None:
    first = client.post("/v1/complaints", json={**GOOD, "number": "(415) 555-0123", "note": "=HYPERLINK(1)"}, headers=RW).get_json()
    assert first["number"] == "+14155550123" and first["account_sid"] == TENANT and first["family"] == MAIN
    assert first["received_at"] == first["created_at"] == "2026-06-01T15:00:00Z"  # default: now (the app's clock)
    second = client.post(
        "/v1/complaints", json={**GOOD, "number": "+14155550124", "caller_id": "+14155550101", "received_at": "2026-05-01T10:00:00+02:00"},
        headers=RW,
    ).get_json()
    assert second["received_at"] == "2026-05-01T08:00:00Z"
    listed = client.get("/v1/complaints", headers=RO).get_json()["complaints"]
    assert [c["id"] for c in listed] == [second["id"], first["id"]]  # newest first
    by_caller = client.get(f"/v1/complaints?account_sid={TENANT}&caller_id=(415)%20555-0101", headers=RO).get_json()["complaints"]
    assert [c["id"] for c in by_caller] == [second["id"]]
    since = client.get("/v1/complaints?since=2026-05-15T00:00:00Z", headers=RO).get_json()["complaints"]
    assert [c["id"] for c in since] == [first["id"]]
    paged = client.get(f"/v1/complaints?limit=1&before_id={second['id']}", headers=RO).get_json()["complaints"]
    assert [c["id"] for c in paged] == [first["id"]]
    assert client.get(f"/v1/complaints?account_sid={MAIN}", headers=RO).get_json()["complaints"] == []
    assert client.get("/v1/complaints?before_id=0", headers=RO).get_json()["error"]["field"] == "before_id"
    exported = client.get("/v1/complaints?format=csv", headers=RO)
    assert exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [r["number"] for r in rows] == ["+14155550124", "+14155550123"]
    assert rows[1]["note"] == "'=HYPERLINK(1)"  # no formula for a spreadsheet
    changes = client.get("/v1/changes", headers=RO).get_json()["changes"]
    assert [(c["entity"], c["action"]) for c in changes] == [("optout", "create"), ("complaint", "create")] * 2
