"""Traffic limits through the webhooks: /voice/status, statusCallback injection, fail mode and
automatic suspension (callguard.web.status; the alert webhook: tests/runtime/test_alerts.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..conftest import BASE_POLICY, MAIN, PUBLIC_URL, TwilioClient, dial_params, parse_twiml
from .test_metrics import sample

TRAFFIC = """
[traffic]
concurrent = 2
unanswered = { last = 10, min_attempts = 3, min_answer_ratio = 0.5, cooldown = "1h" }

[[traffic.velocity]]
country = "CU"
max_calls = 2
window = "10m"
block_for = "1d"
suspend_account = true
"""


@pytest.fixture
def traffic_app(make_app: Callable[..., Any], app_config: dict[str, Any], write_policy: Callable[..., Path]) -> Any:
    cuba = '\n[accounts.AC00000000000000000000000000000001.permissions.CU]\nlow_risk = true\nhigh_risk_tollfraud = true\n'
    text = BASE_POLICY + TRAFFIC + cuba
    return make_app({**app_config, "CALLGUARD_POLICY": str(write_policy(text, name="traffic.toml"))})


def status(tw: TwilioClient, parent: str, call_status: str, duration: int = 0, caller: str = "+14155550100") -> Any:
    params = dial_params("+14155550123", from_=caller, CallSid="CA" + "c" * 32, ParentCallSid=parent, CallStatus=call_status,
                         CallDuration=str(duration), Direction="outbound-dial")
    return tw.post("/voice/status", params)


def test_connected_dials_report_their_status_to_callguard(traffic_app: Any) -> None:
    tw = TwilioClient(traffic_app.test_client())
    number = parse_twiml(tw.post("/voice/outbound", dial_params("+14155550123")).data).find("Dial/Number")
    assert number.get("statusCallback") == f"{PUBLIC_URL}/voice/status" and number.get("statusCallbackMethod") == "POST"


def test_a_campaign_of_its_own_limits_gets_status_callbacks_too(
    make_app: Callable[..., Any], app_config: dict[str, Any], write_policy: Callable[..., Path]
) -> None:
    text = BASE_POLICY + '\n[campaigns.reminders]\npurpose = "informational"\n\n[campaigns.reminders.traffic]\nconcurrent = 1\n'
    app = make_app({**app_config, "CALLGUARD_POLICY": str(write_policy(text, name="campaign-traffic.toml"))})
    tw = TwilioClient(app.test_client())
    plain = parse_twiml(tw.post("/voice/outbound", dial_params("+14155550123")).data).find("Dial/Number")
    assert plain.get("statusCallback") is None  # no limits apply to it: nothing to count
    counted = parse_twiml(tw.post("/voice/outbound?campaign=reminders", dial_params("+14155550123", CallSid="CA" + "1" * 32)).data)
    assert counted.find("Dial/Number").get("statusCallback") == f"{PUBLIC_URL}/voice/status?campaign=reminders"
    second = tw.post("/voice/outbound?campaign=reminders", dial_params("+14155550124", CallSid="CA" + "2" * 32))
    assert second.headers["X-Callguard-Decision"] == "reject; reasons=traffic.concurrent"


def test_unanswered_calls_reported_by_twilio_throttle_the_caller_id(traffic_app: Any) -> None:
    tw = TwilioClient(traffic_app.test_client())
    for index, call_status in enumerate(("completed", "no-answer", "busy")):
        parent = f"CA{index:032d}"
        dialled = tw.post("/voice/outbound", dial_params("+14155550123", CallSid=parent))
        assert dialled.headers["X-Callguard-Decision"] == "connect; reasons=ok"
        response = status(tw, parent, call_status, duration=45 if call_status == "completed" else 0)
        assert response.status_code == 200 and list(parse_twiml(response.data)) == []
    refused = tw.post("/voice/outbound", dial_params("+14155550123", CallSid="CA" + "9" * 32))
    assert refused.headers["X-Callguard-Decision"] == "reject; reasons=traffic.unanswered"
    # Another caller ID of the account is not affected.
    other = tw.post("/voice/outbound", dial_params("+14155550123", from_="+14155550101", CallSid="CA" + "8" * 32))
    assert other.headers["X-Callguard-Decision"] == "connect; reasons=ok"


def test_concurrent_slots_are_freed_by_the_final_status(traffic_app: Any) -> None:
    tw = TwilioClient(traffic_app.test_client())

    def decision(parent: str) -> str:
        return tw.post("/voice/outbound", dial_params("+14155550123", CallSid=parent)).headers["X-Callguard-Decision"]

    for parent in ("CA" + "1" * 32, "CA" + "2" * 32):
        assert decision(parent) == "connect; reasons=ok"
    assert decision("CA" + "3" * 32) == "reject; reasons=traffic.concurrent"
    status(tw, "CA" + "1" * 32, "ringing")  # not final: nothing changes
    assert decision("CA" + "4" * 32) == "reject; reasons=traffic.concurrent"
    status(tw, "CA" + "1" * 32, "completed", duration=30)
    assert decision("CA" + "5" * 32) == "connect; reasons=ok"


def test_a_call_checked_before_it_existed_frees_its_slot_by_name(traffic_app: Any) -> None:
    """A REST-created call is checked under a SID of callguard's making, named in its statusCallback."""
    from callguard import DialRequest

    state = traffic_app.extensions["callguard"]
    for slot in ("cg-rest-1", "cg-rest-2"):
        assert state.guard.check(DialRequest(MAIN, "+14155550123", "+14155550100", call_sid=slot)).action.value == "connect"
    assert state.guard.check(DialRequest(MAIN, "+14155550123", "+14155550100", call_sid="cg-rest-3")).reasons == ("traffic.concurrent",)
    tw = TwilioClient(traffic_app.test_client())
    params = dial_params("+14155550123", CallSid="CA" + "d" * 32, CallStatus="completed", CallDuration="30", Direction="outbound-api")
    assert tw.post("/voice/status?slot=cg-rest-1", params).status_code == 200
    assert state.guard.check(DialRequest(MAIN, "+14155550123", "+14155550100", call_sid="cg-rest-3")).action.value == "connect"


def test_a_velocity_trigger_suspends_the_account(traffic_app: Any) -> None:
    tw = TwilioClient(traffic_app.test_client())
    for n in range(2):
        response = tw.post("/voice/outbound", dial_params(f"+535123456{n}", CallSid=f"CA{n:032d}"))
        assert response.headers["X-Callguard-Decision"] == "connect; reasons=ok"
        status(tw, f"CA{n:032d}", "completed", 60)
    assert tw.post("/voice/outbound", dial_params("+5351234569")).headers["X-Callguard-Decision"] == "reject; reasons=traffic.velocity"
    state = traffic_app.extensions["callguard"]
    (change,) = state.overrides.changes(entity="account")
    assert (change.actor, change.action, change.entity_id) == ("traffic", "suspend", MAIN)
    (block,) = state.overrides.changes(entity="traffic")
    assert (block.actor, block.action, block.entity_id) == ("traffic", "velocity_block", f"{MAIN}:CU")
    assert "more than 2 calls to Cuba" in block.after["sentence"]
    state.refresher.refresh_now()
    suspended = tw.post("/voice/outbound", dial_params("+14155550123"))
    assert suspended.headers["X-Callguard-Decision"].startswith("reject; reasons=account.suspended")


def test_a_redis_outage_follows_the_fail_mode_never_5xx(
    make_app: Callable[..., Any], app_config: dict[str, Any], write_policy: Callable[..., Path]
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = make_app({**app_config, "CALLGUARD_POLICY": str(write_policy(BASE_POLICY + TRAFFIC, name="t.toml")), "CALLGUARD_REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    tw = TwilioClient(app.test_client())
    before = app.test_client().get("/metrics").get_data(as_text=True)
    refused = tw.post("/voice/outbound", dial_params("+14155550123"))
    assert refused.status_code == 200 and refused.headers["X-Callguard-Decision"] == "reject; reasons=fault.internal"
    emergency = tw.post("/voice/outbound", dial_params("911"))
    assert parse_twiml(emergency.data).find("Dial/Number").text == "911"
    after = app.test_client().get("/metrics").get_data(as_text=True)
    labels = {"backend": "redis", "operation": "counters batch"}
    assert sample(after, "callguard_store_errors_total", **labels) - sample(before, "callguard_store_errors_total", **labels) >= 1
    assert tw.post("/voice/status", dial_params("+14155550123", CallStatus="completed", CallDuration="5")).status_code == 200
    health = app.test_client().get("/healthz").get_json()
    assert health["status"] == "degraded" and health["traffic_counters"]["backend"] == "redis"
    assert health["traffic_counters"]["ok"] is False


def test_status_callbacks_are_signed(traffic_app: Any) -> None:
    client = traffic_app.test_client()
    forged = client.post("/voice/status", data=dial_params("+14155550123", CallStatus="completed"), headers={"X-Twilio-Signature": "x"})
    assert forged.status_code == 403
