"""``/v1/decisions`` (callguard.web.admin.decisions): the audit log, filtered, paged and exported."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

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


@pytest.mark.parametrize("field", ["since", "until"])
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0000-01-01T00:00:00Z"])
def test_a_date_outside_the_years_a_date_holds_is_a_400_naming_the_field(client: Any, field: str, value: str) -> None:
    response = client.get("/v1/decisions", query_string={field: value}, headers=RO)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field


def test_like_wildcards_in_a_reason_match_only_themselves(app: Any, client: Any) -> None:
    twilio = TwilioClient(app.test_client())
    twilio.post("/voice/outbound", dial_params("+14155550191", from_="+14155550177", CallSid="CA-two"))
    assert client.get("/v1/decisions?reason=callerid.not_owned", headers=RO).get_json()["decisions"] != []
    for pattern in ("%", "_%", "prefix%", "%owned", "prefix_blocked", "callerid_not_owned", "callerid.not_owne_", "\\", "%\\"):
        assert client.get("/v1/decisions", query_string={"reason": pattern}, headers=RO).get_json()["decisions"] == [], pattern


def test_the_csv_export_writes_caller_chosen_values_as_text(app: Any, client: Any) -> None:
    """A Voice SDK client chooses To, From and CallSid: none reaches a spreadsheet as a formula."""
    twilio = TwilioClient(app.test_client())
    twilio.post("/voice/outbound", dial_params('=HYPERLINK("http://evil.example","x")', CallSid="@SUM(1+1)"))
    twilio.post("/voice/outbound", dial_params("+14155550123", CallSid="-2+3"))
    rows = list(csv.DictReader(io.StringIO(client.get("/v1/decisions?format=csv", headers=RO).get_data(as_text=True))))
    assert [(r["call_sid"], r["to"]) for r in rows] == [
        ("'-2+3", "+14155550123"),  # an E.164 number stays as it is
        ("'@SUM(1+1)", '\'=HYPERLINK("http://evil.example","x")'),
    ]
    assert rows[0]["from"] == "+14155550100"
