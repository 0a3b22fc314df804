"""``POST /v1/check`` (callguard.web.admin.check): decisions without a call, what-ifs and reservations."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from callguard import FakeClock

from ...conftest import ADMIN_TOKEN, BASE_POLICY, MAIN, PUBLIC_URL, READ_TOKEN, TwilioClient, dial_params
from .conftest import bearer


def test_check_answers_the_decision(app: Any) -> None:
    client = app.test_client()
    response = client.post(
        "/v1/check", json={"account_sid": MAIN, "to": "011 44 20 7946 0000", "from": "+14155550100"}, headers=bearer(READ_TOKEN)
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["action"] == "connect" and body["e164"] == "+442079460000" and body["region"] == "GB"
    assert body["source"] == "api" and body["checks"][-1] == "callerid"
    refused = client.post(
        "/v1/check", json={"account_sid": MAIN, "to": "+18765550100", "from": "+14155550100"}, headers=bearer(ADMIN_TOKEN)
    )
    assert refused.get_json()["reasons"] == ["geo.high_risk_tollfraud"]


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"json": {"to": "+14155550123"}}, "account_sid"),
        ({"json": {"account_sid": MAIN}}, "to"),
        ({"json": {"account_sid": MAIN, "to": 14155550123}}, "to"),
        ({"json": {"account_sid": MAIN, "to": "+1", "from": ["x"]}}, "from"),
        ({"json": ["not", "an", "object"]}, None),
        ({"data": "to=+14155550123"}, None),
    ],
)
def test_bad_input_is_a_400_naming_the_field(app: Any, kwargs: dict[str, Any], field: str | None) -> None:
    response = app.test_client().post("/v1/check", headers=bearer(ADMIN_TOKEN), **kwargs)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_request" and error.get("field") == field


# -- what-if checks and reservations -------------------------------------------------------------


TRAFFIC = """
[traffic]
concurrent = 3

[[traffic.velocity]]
country = "CU"
max_calls = 2
window = "10m"
block_for = "1d"
suspend_account = true

[accounts.AC00000000000000000000000000000001.permissions.CU]
low_risk = true
high_risk_tollfraud = true
"""


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def traffic_app(request: pytest.FixtureRequest, app_config: dict[str, Any], write_policy: Callable[..., Path]) -> Any:
    """An app whose account may have 3 calls up at once, counting in SQLite or in Redis."""
    config = {**app_config, "CALLGUARD_POLICY": str(write_policy(BASE_POLICY + TRAFFIC, name="traffic.toml"))}
    if request.param == "redis":
        config.update(
            CALLGUARD_REDIS_URL=request.getfixturevalue("redis_server"), CALLGUARD_REDIS_PREFIX=request.getfixturevalue("redis_prefix")
        )
    make_app = request.getfixturevalue("make_app")  # after the Redis prefix: the app closes before its keys are deleted
    return make_app(config)


def webhook(tw: TwilioClient, to: str = "+14155550123") -> str:
    """Place a real call through /voice/outbound; its decision header."""
    return str(tw.post("/voice/outbound", dial_params(to)).headers["X-Callguard-Decision"])


def api_check(app: Any, **fields: Any) -> Any:
    body = {"account_sid": MAIN, "to": "+14155550123", "from": "+14155550100", **fields}
    return app.test_client().post("/v1/check", json=body, headers=bearer(ADMIN_TOKEN))


def test_what_if_checks_take_no_capacity(traffic_app: Any) -> None:
    for _ in range(4):
        answer = api_check(traffic_app).get_json()
        assert answer["action"] == "connect" and "traffic" in answer["checks"] and "reservation" not in answer
    tw = TwilioClient(traffic_app.test_client())
    assert [webhook(tw) for _ in range(3)] == ["connect; reasons=ok"] * 3
    assert webhook(tw) == "reject; reasons=traffic.concurrent"
    # The check reads the same counters: at the limit it says what a real call would get.
    assert api_check(traffic_app).get_json()["reasons"] == ["traffic.concurrent"]


def test_a_what_if_never_trips_a_velocity_trigger(traffic_app: Any) -> None:
    tw = TwilioClient(traffic_app.test_client())
    assert [webhook(tw, f"+535123456{n}") for n in range(2)] == ["connect; reasons=ok"] * 2
    for _ in range(3):
        assert api_check(traffic_app, to="+5351234569").get_json()["reasons"] == ["traffic.velocity"]
    state = traffic_app.extensions["callguard"]
    assert state.overrides.changes(entity="traffic") == [] and state.overrides.changes(entity="account") == []
    state.refresher.refresh_now()
    assert webhook(tw) == "connect; reasons=ok"  # the account was not suspended
    assert webhook(tw, "+5351234569") == "reject; reasons=traffic.velocity"  # a real call trips it
    assert [c.action for c in state.overrides.changes(entity="traffic")] == ["velocity_block"]


def test_a_reservation_holds_a_slot_until_the_status_callback_frees_it(traffic_app: Any, clock: FakeClock) -> None:
    answers = [api_check(traffic_app, reserve=True).get_json() for _ in range(2)]
    answers.append(api_check(traffic_app, reserve=True, call_sid="my-call-7", reserve_seconds=600).get_json())
    slots = [a["reservation"]["slot"] for a in answers]
    assert slots[2] == "my-call-7" and all(re.fullmatch(r"cg-[0-9a-f]{32}", slot) for slot in slots[:2]) and slots[0] != slots[1]
    assert [a["call_sid"] for a in answers] == slots
    assert [a["reservation"]["expires_at"] for a in answers] == [clock() + 60, clock() + 60, clock() + 600]
    assert [a["reservation"]["status_callback"] for a in answers] == [f"{PUBLIC_URL}/voice/status?slot={slot}" for slot in slots]
    tw = TwilioClient(traffic_app.test_client())
    assert webhook(tw) == "reject; reasons=traffic.concurrent"
    refused = api_check(traffic_app, reserve=True).get_json()
    assert refused["reasons"] == ["traffic.concurrent"] and "reservation" not in refused
    # The call placed under the reservation ends: Twilio reports it to the status callback, signed.
    callback = answers[2]["reservation"]["status_callback"].removeprefix(PUBLIC_URL)
    params = dial_params("+14155550123", CallSid="CA" + "d" * 32, CallStatus="completed", CallDuration="30", Direction="outbound-api")
    assert tw.post(callback, params).status_code == 200
    assert webhook(tw) == "connect; reasons=ok"
    assert webhook(tw) == "reject; reasons=traffic.concurrent"


def test_a_reservation_expires_after_reserve_seconds(traffic_app: Any, clock: FakeClock) -> None:
    for _ in range(3):
        assert "reservation" in api_check(traffic_app, reserve=True, reserve_seconds=30).get_json()
    tw = TwilioClient(traffic_app.test_client())
    clock.advance(29)
    assert webhook(tw) == "reject; reasons=traffic.concurrent"
    clock.advance(1)  # no status callback came: the slots are free after 30 s, not max_call_seconds
    assert webhook(tw) == "connect; reasons=ok"


def test_a_refused_reservation_holds_nothing(traffic_app: Any) -> None:
    refused = api_check(traffic_app, to="+18765550100", reserve=True).get_json()  # no permission for Jamaica's toll-fraud range
    assert refused["action"] == "reject" and "reservation" not in refused
    tw = TwilioClient(traffic_app.test_client())
    assert [webhook(tw) for _ in range(3)] == ["connect; reasons=ok"] * 3


def test_a_reservation_without_traffic_limits_reserves_nothing(app: Any) -> None:
    answer = api_check(app, reserve=True).get_json()
    assert answer["action"] == "connect" and "traffic" not in answer["checks"] and "reservation" not in answer


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"reserve": "yes"}, "reserve"),
        ({"reserve": 1}, "reserve"),
        ({"reserve": None}, "reserve"),
        ({"reserve": True, "reserve_seconds": 0}, "reserve_seconds"),
        ({"reserve": True, "reserve_seconds": 0.5}, "reserve_seconds"),
        ({"reserve": True, "reserve_seconds": 14_401}, "reserve_seconds"),
        ({"reserve": True, "reserve_seconds": "60"}, "reserve_seconds"),
        ({"reserve": True, "reserve_seconds": True}, "reserve_seconds"),
        ({"reserve": True, "reserve_seconds": None}, "reserve_seconds"),
    ],
)
def test_bad_reservation_fields_are_a_400_naming_the_field(traffic_app: Any, fields: dict[str, Any], field: str) -> None:
    response = api_check(traffic_app, **fields)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_request" and error["field"] == field
    tw = TwilioClient(traffic_app.test_client())
    assert [webhook(tw) for _ in range(3)] == ["connect; reasons=ok"] * 3  # nothing was reserved
