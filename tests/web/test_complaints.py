"""Complaints end to end, through the admin API and signed webhooks (callguard.web.admin.complaints,
callguard.traffic.complaints): the callee opted out at once, the caller ID throttled and the
campaign paused at their thresholds and not one complaint before, on one host and on two hosts
sharing SQLite files or PostgreSQL and Redis."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from callguard.clock import FakeClock

from ..conftest import ADMIN_TOKEN, BASE_POLICY, MAIN, TwilioClient, dial_params, parse_twiml

POLICY = BASE_POLICY + """
[campaigns.spring]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "This is Acme Solar calling about our spring offer."
calling_hours = { all = "00:00-24:00" }

[calling_hours]
default = { all = "00:00-24:00" }

[traffic.complaints]
caller_id = { max = 3, window = "30d", cooldown = "7d" }
campaign = { max = 5, window = "30d" }
"""
RW = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CALLER_ID = "+14155550100"
OTHER_CALLER_ID = "+14155550101"
DAY = 86_400.0


def complain(app: Any, number: str, caller_id: str = CALLER_ID, **extra: Any) -> dict[str, Any]:
    body = {"number": number, "caller_id": caller_id, "account_sid": MAIN, "source": "consumer", **extra}
    response = app.test_client().post("/v1/complaints", json=body, headers=RW)
    assert response.status_code == 201, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def decide(app: Any, to: str, from_: str = CALLER_ID, campaign: str | None = None) -> str:
    path = "/voice/outbound" + (f"?campaign={campaign}" if campaign else "")
    response = TwilioClient(app.test_client()).post(path, dial_params(to, from_))
    assert response.status_code == 200
    document = parse_twiml(response.data)
    decision = str(response.headers["X-Callguard-Decision"])
    assert (document.find("Dial") is not None) == (not decision.startswith("reject")), response.data
    return decision


@pytest.fixture
def config(app_config: dict[str, Any], write_policy: Callable[..., Path]) -> dict[str, Any]:
    return {**app_config, "CALLGUARD_POLICY": str(write_policy(POLICY, name="complaints.toml"))}


@pytest.fixture(params=["sqlite", pytest.param("postgresql+redis", marks=[pytest.mark.postgres, pytest.mark.redis])])
def two_hosts(request: pytest.FixtureRequest, config: dict[str, Any], make_app: Callable[[dict[str, Any]], Any]) -> tuple[Any, Any]:
    """Two apps sharing their records and counters: SQLite files, or PostgreSQL and Redis."""
    if request.param != "sqlite":
        postgres_url = request.getfixturevalue("postgres_url")
        config = {
            **config, "CALLGUARD_DATABASE_URL": postgres_url, "CALLGUARD_REDIS_URL": request.getfixturevalue("redis_server"),
            "CALLGUARD_REDIS_PREFIX": request.getfixturevalue("redis_prefix"), "CALLGUARD_AUTO_MIGRATE": True,
        }
    return make_app(config), make_app(config)


def test_a_complaint_opts_the_callee_out_across_the_family_on_every_host(two_hosts: tuple[Any, Any]) -> None:
    a, b = two_hosts
    callee = "+12125550123"
    assert decide(b, callee, campaign="spring") == "disclose; reasons=disclosure.required"
    complaint = complain(a, "(212) 555-0123", note="called twice")
    assert complaint["number"] == callee and complaint["family"] == MAIN and complaint["fired"] == []
    assert decide(b, callee, campaign="spring") == "reject; reasons=dnc.optout"  # the next call, on the other host
    assert decide(a, callee, campaign="spring") == "reject; reasons=dnc.optout"
    optouts = b.test_client().get(f"/v1/optouts?account_sid={MAIN}", headers=RW).get_json()["optouts"]
    assert [(o["number"], o["campaign"], o["source"]) for o in optouts] == [(callee, "*", "complaint")]
    assert optouts[0]["note"] == f"complaint {complaint['id']} (consumer)"


def test_the_caller_id_is_throttled_at_its_threshold_and_not_one_complaint_before(two_hosts: tuple[Any, Any]) -> None:
    a, b = two_hosts
    for n in range(1, 3):
        assert complain(a, f"+1212555010{n}")["fired"] == []
        assert decide(b, f"+1312555010{n}") == "connect; reasons=ok", f"after complaint {n}"
    assert complain(a, "+12125550103")["fired"] == ["complaints.caller_id"]
    assert decide(b, "+13125550109") == "reject; reasons=complaints.caller_id"  # the next call, on the other host
    assert decide(a, "+13125550110") == "reject; reasons=complaints.caller_id"
    assert decide(b, "+13125550111", from_=OTHER_CALLER_ID) == "connect; reasons=ok"  # another caller ID of the account


def test_the_campaign_is_paused_at_its_threshold_and_not_one_complaint_before(two_hosts: tuple[Any, Any]) -> None:
    a, b = two_hosts
    for n in range(1, 5):  # each about another caller ID: none of them reaches its own threshold
        assert complain(a, f"+1212555020{n}", caller_id=f"+1646555010{n}", campaign="spring")["fired"] == []
        assert decide(b, f"+1312555020{n}", campaign="spring") == "disclose; reasons=disclosure.required", f"after complaint {n}"
    assert complain(a, "+12125550205", caller_id="+16465550105", campaign="spring")["fired"] == ["complaints.campaign"]
    assert decide(b, "+13125550209", campaign="spring") == "reject; reasons=complaints.campaign"
    assert decide(b, "+13125550210") == "connect; reasons=ok"  # the account's calls outside the campaign go on


def test_the_throttle_ends_with_its_cooldown_and_counting_starts_afresh(config: dict[str, Any], make_app: Any) -> None:
    host = make_app(config)
    clock: FakeClock = config["CALLGUARD_CLOCK"]
    for n in range(1, 4):
        complain(host, f"+1212555030{n}")
    assert decide(host, "+13125550301") == "reject; reasons=complaints.caller_id"
    clock.advance(7 * DAY + 1)
    assert decide(host, "+13125550302") == "connect; reasons=ok"
    complain(host, "+12125550304")  # the three before it fired the throttle already: this one starts a new count
    assert decide(host, "+13125550303") == "connect; reasons=ok"


def test_complaints_outside_the_window_do_not_count(config: dict[str, Any], make_app: Any) -> None:
    host = make_app(config)
    clock: FakeClock = config["CALLGUARD_CLOCK"]
    complain(host, "+12125550401", received_at="2026-04-01T00:00:00Z")  # two months before the test's now
    complain(host, "+12125550402")
    assert complain(host, "+12125550403")["fired"] == []
    assert decide(host, "+13125550401") == "connect; reasons=ok"
    clock.advance(DAY)
    assert complain(host, "+12125550404")["fired"] == ["complaints.caller_id"]


def test_a_threshold_reached_is_alerted_and_in_the_change_log(config: dict[str, Any], make_app: Any, write_policy: Any) -> None:
    received: list[dict[str, Any]] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        webhook = f'\n[traffic.alerts]\nwebhook = "http://127.0.0.1:{server.server_address[1]}/alerts"\n'
        host = make_app({**config, "CALLGUARD_POLICY": str(write_policy(POLICY + webhook, name="alerting.toml"))})
        for n in range(1, 4):
            complain(host, f"+1212555050{n}")
        host.extensions["callguard"].alerts.drain()
    finally:
        server.shutdown()
        server.server_close()
    (alert,) = received
    assert (alert["kind"], alert["account_sid"], alert["subject"]) == ("complaints_throttle", MAIN, CALLER_ID)
    assert alert["details"] == {"complaints": 3, "max": 3, "window": 30 * DAY}
    changes = host.test_client().get("/v1/changes?entity=traffic", headers=RW).get_json()["changes"]
    assert [(c["action"], c["entity_id"]) for c in changes] == [("complaints_throttle", f"{MAIN}:{CALLER_ID}")]
