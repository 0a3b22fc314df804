"""``/v1/decisions`` (callguard.web.admin.decisions): the audit log, filtered, paged and exported."""

from __future__ import annotations

import csv
import io
from typing import Any

from ...conftest import TwilioClient, dial_params
from .conftest import RO


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
    found = client.get("/v1/decisions?number=876-555-0100&action=reject", headers=RO).get_json()["decisions"]
    assert [d["call_sid"] for d in found] == ["CA-jm"]
    assert client.get("/v1/decisions?number=%2B18765550100&action=connect", headers=RO).get_json()["decisions"] == []
    page = client.get(f"/v1/decisions?limit=1&before_id={decisions[0]['id']}", headers=RO).get_json()["decisions"]
    assert [d["call_sid"] for d in page] == ["CA-jm"]
    exported = client.get("/v1/decisions?format=csv", headers=RO)
    assert exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0]["call_sid"] == "CA-two" and rows[0]["reasons"] == "prefix.blocked,callerid.not_owned"
    assert client.get("/v1/decisions?since=yesterday", headers=RO).status_code == 400
    assert client.get("/v1/decisions?limit=0", headers=RO).status_code == 400
