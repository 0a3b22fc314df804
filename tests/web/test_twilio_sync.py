"""End to end: the app syncs from the Twilio double with the real twilio client, and POST /voice/outbound
decides on what it read; a Twilio outage keeps calls flowing on the cached picture (callguard.sync)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from callguard import FakeClock

from ..conftest import ADMIN_TOKEN, MAIN, TENANT, TENANT_TOKEN, TwilioClient, dial_params
from ..sync.twilio_double import TwilioDouble
from .test_metrics import sample
from .test_voice import OUTBOUND, dialled, refused

MAX_STALENESS = 7200.0


@pytest.fixture
def app(
    make_app: Callable[[dict[str, Any]], Any], app_config: dict[str, Any], sync_policy_path: Path, double: TwilioDouble, sleeps: list[float]
) -> Any:
    return make_app(
        {
            **app_config,
            "CALLGUARD_POLICY": str(sync_policy_path),
            "CALLGUARD_TWILIO_BASE_URL": double.url,
            "CALLGUARD_TWILIO_MAX_STALENESS": MAX_STALENESS,
            "CALLGUARD_SLEEP": sleeps.append,
        }
    )


def sync(app: Any) -> Any:
    """What the scheduler does in the worker that holds the lease, then what every worker's refresher does."""
    state = app.extensions["callguard"]
    report = state.twilio_sync.run(state.refresher.base_policy, force=True)
    state.refresher.refresh_now()
    return report


def decision(response: Any) -> str:
    return response.headers["X-Callguard-Decision"]


def test_a_number_synced_from_twilio_is_accepted_as_caller_id(app: Any, twilio: TwilioClient) -> None:
    call = dial_params("+14155550123", from_="+14155550104")  # a number of the account at Twilio, in no policy
    assert decision(twilio.post(OUTBOUND, call)) == "reject; reasons=twilio.not_synced,geo.low_risk,callerid.not_owned"
    assert sync(app).ok
    assert dialled(twilio.post(OUTBOUND, call)) == ("+14155550104", "+14155550123")
    assert dialled(twilio.post(OUTBOUND, dial_params("+14155550123", from_="+12025550123")))[0] == "+12025550123"  # verified caller ID
    assert decision(twilio.post(OUTBOUND, dial_params("+14155550123", from_="+14155550188"))) == "reject; reasons=callerid.not_owned"


def test_a_country_twilio_disables_is_refused_in_both_modes(app: Any, twilio: TwilioClient) -> None:
    assert sync(app).ok
    # Mirror: Twilio closes Germany for the main account.
    refused(response := twilio.post(OUTBOUND, dial_params("+4915112345678", from_="+14155550104")))
    assert decision(response) == "reject; reasons=geo.low_risk"
    # Stricter: the policy opens France for the tenant, Twilio does not.
    tenant_call = dial_params("+33612345678", from_="+442079460000", account=TENANT)
    refused(response := twilio.post(OUTBOUND, tenant_call, token=TENANT_TOKEN))
    assert decision(response) == "reject; reasons=geo.low_risk"
    # … and what both open connects.
    assert dialled(twilio.post(OUTBOUND, dial_params("+4915112345678", from_="+442079460000", account=TENANT), token=TENANT_TOKEN)) == (
        "+442079460000",
        "+4915112345678",
    )


def _outage(double: TwilioDouble, kind: str) -> None:
    if kind == "connection refused":
        double.down()
    elif kind == "429 storm":
        double.fail(".", 429, times=10_000, retry_after="1")
    else:
        double.fail(".", 503, times=10_000)


@pytest.mark.parametrize(
    ("kind", "counted"), [("connection refused", "unreachable"), ("429 storm", "rate_limited"), ("5xx", "server_error")]
)
def test_a_twilio_outage_keeps_calls_flowing_on_cached_data(
    app: Any, twilio: TwilioClient, double: TwilioDouble, clock: FakeClock, kind: str, counted: str
) -> None:
    client = app.test_client()
    call = dial_params("+14155550123", from_="+14155550104")
    assert sync(app).ok
    assert decision(twilio.post(OUTBOUND, call)) == "connect; reasons=ok"
    assert client.get("/healthz").get_json()["status"] == "ok"

    _outage(double, kind)
    clock.advance(3600)
    errors_before = sample(client.get("/metrics").get_data(as_text=True), "callguard_twilio_sync_errors_total", kind=counted)
    report = sync(app)
    assert report.outcome == "failed" and {o.error.kind for o in report.outcomes if o.error} == {counted}
    assert dialled(twilio.post(OUTBOUND, call)) == ("+14155550104", "+14155550123")  # the cached picture still decides
    health = client.get("/healthz").get_json()
    main = next(a for a in health["twilio_sync"]["accounts"] if a["sid"] == MAIN)
    assert health["status"] == "degraded" and main["stale"] is False and main["age_seconds"] == 3600
    assert main["last_error"].startswith(f"{MAIN}: /2010-04-01/Accounts.json: Twilio ")
    metrics = client.get("/metrics").get_data(as_text=True)
    assert sample(metrics, "callguard_twilio_sync_errors_total", kind=counted) == errors_before + 2
    assert sample(metrics, "callguard_twilio_sync_runs_total", outcome="failed") >= 1
    assert sample(metrics, "callguard_twilio_retries_total", reason=counted) >= 3

    clock.advance(MAX_STALENESS - 3600)  # the picture is now as old as it may be
    root = refused(response := twilio.post(OUTBOUND, call))
    assert decision(response) == "reject; reasons=twilio.stale"
    assert root.find("Reject") is not None
    assert decision(twilio.post(OUTBOUND, dial_params("911", from_="+14155550104"))).startswith("connect; reasons=emergency")
    assert next(a for a in client.get("/healthz").get_json()["twilio_sync"]["accounts"] if a["sid"] == MAIN)["stale"] is True

    double.failures.clear()
    if kind == "connection refused":
        double.up()
    assert sync(app).ok
    assert decision(twilio.post(OUTBOUND, call)) == "connect; reasons=ok"
    assert client.get("/healthz").get_json()["status"] == "ok"


def test_the_admin_api_shows_the_permissions_in_force(app: Any) -> None:
    assert sync(app).ok
    body = app.test_client().get(f"/v1/accounts/{MAIN}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).get_json()
    assert body["permissions"]["DE"]["low_risk"] is False and body["permissions"]["US"]["low_risk"] is True
    assert "+14155550104" in body["caller_ids"]
