"""The records database becomes unreachable under a running app: calls are decided on the last
good data up to CALLGUARD_DATABASE_STALE_LIMIT, then by the fail mode; emergency calls still
connect; when the database is back everything is as before (callguard.runtime.refresh,
callguard.store.last_good, the engine's staleness limit)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from callguard import FakeClock

from ..conftest import ADMIN_TOKEN, BASE_POLICY, MAIN, TENANT, TENANT_TOKEN, TcpProxy, TwilioClient, dial_params, parse_twiml
from ..faults.relay import FaultRelay, Mode

pytestmark = pytest.mark.postgres

POLICY = BASE_POLICY + """
[campaigns.spring]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "This is Acme Solar calling about our spring offer."

[calling_hours]
default = { all = "00:00-24:00" }
"""
OPTED_OUT, CLEAN, NEVER_SEEN = "+12125550123", "+12125550124", "+12125550125"
LIMIT = 300


def test_calls_ride_out_an_outage_on_the_last_good_data_then_follow_the_fail_mode(
    make_app: Callable[[dict[str, Any]], Any],
    app_config: dict[str, Any],
    write_policy: Callable[..., Any],
    postgres_url: str,
    tcp_proxy: Callable[[int], TcpProxy],
    clock: FakeClock,
) -> None:
    proxy = tcp_proxy(5432)
    breakers = FakeClock(0)  # the breakers' monotonic clock: a refused connection keeps the database unasked for a second
    app = make_app(
        {
            **app_config,
            "CALLGUARD_POLICY": str(write_policy(POLICY, name="outage.toml")),
            "CALLGUARD_DATABASE_URL": proxy.url(postgres_url),
            "CALLGUARD_AUTO_MIGRATE": "true",
            "CALLGUARD_AUDIT_MODE": "batched",
            "CALLGUARD_REFRESH_INTERVAL": 60,  # a background refresher (hence the limit); the test refreshes by hand
            "CALLGUARD_DATABASE_STALE_LIMIT": LIMIT,
            "CALLGUARD_MONOTONIC": breakers,
        }
    )
    state = app.extensions["callguard"]
    admin = app.test_client()
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert admin.post(f"/v1/accounts/{TENANT}/suspend", json={"reason": "chargeback"}, headers=auth).status_code == 200
    assert admin.post("/v1/optouts", json={"number": OPTED_OUT, "account_sid": MAIN}, headers=auth).status_code == 201
    twilio = TwilioClient(app.test_client())

    def decisions() -> list[str]:
        tenant_dial = dial_params("+442079460001", "+442079460000", TENANT)
        return [
            twilio.post("/voice/outbound", tenant_dial, token=TENANT_TOKEN).headers["X-Callguard-Decision"],
            twilio.post("/voice/outbound?campaign=spring", dial_params(OPTED_OUT)).headers["X-Callguard-Decision"],
            twilio.post("/voice/outbound?campaign=spring", dial_params(CLEAN)).headers["X-Callguard-Decision"],
            twilio.post("/voice/outbound", dial_params("+14155550123")).headers["X-Callguard-Decision"],
        ]

    normal = [
        "reject; reasons=account.suspended",
        "reject; reasons=dnc.optout",
        "disclose; reasons=disclosure.required",
        "connect; reasons=ok",
    ]
    assert decisions() == normal

    proxy.cut()
    state.refresher.refresh_now()
    assert state.refresher.status().last_error.startswith("database")
    clock.advance(LIMIT - 1)
    assert decisions() == normal  # the runtime policy, and the opt-out answers seen before
    unseen = twilio.post("/voice/outbound?campaign=spring", dial_params(NEVER_SEEN)).headers["X-Callguard-Decision"]
    assert unseen == "reject; reasons=fault.internal"  # nothing known about it: the fail mode
    health = app.test_client().get("/healthz").get_json()
    assert health["status"] == "degraded" and health["worker"]["last_good"]["optouts"]["stale_answers"] == 2
    assert health["worker"]["runtime_changes"]["fresh_until"] == clock() + 1

    clock.advance(2)  # past the limit
    assert decisions() == ["reject; reasons=fault.internal"] * 4
    emergency = twilio.post("/voice/outbound", dial_params("911"))
    assert emergency.headers["X-Callguard-Decision"] == "connect; reasons=emergency,fault.internal"

    proxy.restore()
    breakers.advance(1)  # past the database breaker's cool-off
    state.refresher.refresh_now()
    clock.advance(1)  # the opt-out lookups ask the database again after their retry interval
    assert decisions() == normal
    assert app.test_client().get("/healthz").get_json()["status"] == "ok"


@pytest.mark.redis
def test_an_opt_out_made_elsewhere_just_before_an_outage_is_not_forgotten(
    make_app: Callable[[dict[str, Any]], Any],
    app_config: dict[str, Any],
    write_policy: Callable[..., Any],
    postgres_url: str,
    redis_server: str,
    redis_prefix: str,
    tcp_proxy: Callable[[int], TcpProxy],
) -> None:
    proxy = tcp_proxy(5432)
    config = {
        **app_config,
        "CALLGUARD_POLICY": str(write_policy(POLICY, name="outage.toml")),
        "CALLGUARD_AUTO_MIGRATE": "true",
        "CALLGUARD_REDIS_URL": redis_server,
        "CALLGUARD_REDIS_PREFIX": redis_prefix,
    }
    here = make_app({**config, "CALLGUARD_DATABASE_URL": proxy.url(postgres_url)})
    elsewhere = make_app({**config, "CALLGUARD_DATABASE_URL": postgres_url})
    twilio = TwilioClient(here.test_client())
    disclosed = twilio.post("/voice/outbound?campaign=spring", dial_params(CLEAN))
    assert disclosed.headers["X-Callguard-Decision"] == "disclose; reasons=disclosure.required"
    kept = here.extensions["callguard"].last_good["optouts"]
    assert kept.stats().entries == 1  # "no opt-out for CLEAN", kept for an outage

    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert elsewhere.test_client().post("/v1/optouts", json={"number": CLEAN, "account_sid": MAIN}, headers=auth).status_code == 201
    listener = here.extensions["callguard"].change_listener
    assert listener.wait_handled(1, timeout=10)  # the notice is acted on in the listener's thread
    assert kept.stats().entries == 0

    proxy.cut()
    # Without the notice the kept "not opted out" would connect the call; now nothing is known: the fail mode.
    unknown = twilio.post("/voice/outbound?campaign=spring", dial_params(CLEAN))
    assert unknown.headers["X-Callguard-Decision"] == "reject; reasons=fault.internal"


def _timed(call: Callable[[], Any], limit: float) -> tuple[Any, float]:
    """``call()``'s result and how long it took, run on a thread that is given up after ``limit`` seconds."""
    outcome: list[Any] = []

    def run() -> None:
        started = time.monotonic()
        outcome.append(call())
        outcome.append(time.monotonic() - started)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"no answer within {limit} s"
    return outcome[0], outcome[1]


def test_a_black_holed_database_costs_one_bound_then_calls_answer_at_once(
    make_app: Callable[[dict[str, Any]], Any],
    app_config: dict[str, Any],
    write_policy: Callable[..., Any],
    postgres_url: str,
    fault_relay: Callable[[int], FaultRelay],
) -> None:
    relay = fault_relay(5432)
    app = make_app(
        {
            **app_config,
            "CALLGUARD_POLICY": str(write_policy(POLICY, name="outage.toml")),
            "CALLGUARD_DATABASE_URL": relay.url(postgres_url),
            "CALLGUARD_AUTO_MIGRATE": "true",
            "CALLGUARD_AUDIT_MODE": "batched",
            "CALLGUARD_ANSWER_DEADLINE": 1,
        }
    )
    twilio = TwilioClient(app.test_client())
    assert twilio.post("/voice/outbound?campaign=spring", dial_params(CLEAN)).headers["X-Callguard-Decision"].startswith("disclose")

    relay.set(Mode.BLACKHOLE)  # connections accepted, nothing answered: the pooled connection's next read would wait for ever
    first, elapsed = _timed(lambda: twilio.post("/voice/outbound?campaign=spring", dial_params(NEVER_SEEN)), limit=5)
    assert first.headers["X-Callguard-Decision"] == "reject; reasons=fault.internal"
    assert elapsed < 1.0
    parse_twiml(first.data)
    # The database is not asked again until its cool-off has passed: the next calls cost nothing.
    second, elapsed = _timed(lambda: twilio.post("/voice/outbound?campaign=spring", dial_params("+12125550126")), limit=5)
    assert second.headers["X-Callguard-Decision"] == "reject; reasons=fault.internal" and elapsed < 0.2
    emergency, elapsed = _timed(lambda: twilio.post("/voice/outbound", dial_params("911")), limit=5)
    assert emergency.headers["X-Callguard-Decision"] == "connect; reasons=emergency" and elapsed < 0.2
    health = app.test_client().get("/healthz").get_json()
    assert health["status"] == "degraded" and health["worker"]["breakers"]["database"]["state"] == "open"


def test_with_synchronous_audit_records_an_outage_still_connects_emergency_calls(
    make_app: Callable[[dict[str, Any]], Any],
    app_config: dict[str, Any],
    postgres_url: str,
    tcp_proxy: Callable[[int], TcpProxy],
) -> None:
    proxy = tcp_proxy(5432)
    app = make_app({**app_config, "CALLGUARD_DATABASE_URL": proxy.url(postgres_url), "CALLGUARD_AUTO_MIGRATE": "true"})
    assert app.extensions["callguard"].settings.audit_mode == "sync"
    twilio = TwilioClient(app.test_client())
    proxy.cut()
    emergency = twilio.post("/voice/outbound", dial_params("911"))
    assert emergency.headers["X-Callguard-Decision"] == "connect; reasons=emergency"
    assert parse_twiml(emergency.data).find("Dial/Number").text == "911"
    plain = twilio.post("/voice/outbound", dial_params("+14155550123"))
    assert plain.headers["X-Callguard-Decision"] == "connect; reasons=ok"  # decided without the database; only its record is lost
