"""The twilio client's HTTP client: rerouting to another origin, and bounded retries (callguard.sync.transport)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from callguard import FakeClock
from callguard.sync.transport import RetryPolicy, TwilioTransport, retry_after_seconds

from ..conftest import MAIN, MAIN_TOKEN
from .twilio_double import TwilioDouble

NUMBERS = f"https://api.twilio.com/2010-04-01/Accounts/{MAIN}/IncomingPhoneNumbers.json"


def test_requests_for_twilio_hosts_go_to_the_base_url_with_the_host_kept() -> None:
    transport = TwilioTransport(base_url="http://127.0.0.1:9999/prefix/")
    assert transport.route(NUMBERS + "?PageSize=2", {"Accept": "application/json"}) == (
        f"http://127.0.0.1:9999/prefix/2010-04-01/Accounts/{MAIN}/IncomingPhoneNumbers.json?PageSize=2",
        {"Accept": "application/json", "Host": "api.twilio.com"},
    )
    assert transport.route("https://voice.twilio.com/v1/Settings", None) == (
        "http://127.0.0.1:9999/prefix/v1/Settings",
        {"Host": "voice.twilio.com"},
    )
    assert transport.route("https://example.com/x", None) == ("https://example.com/x", {})
    assert TwilioTransport().route(NUMBERS, None) == (NUMBERS, {})


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    now = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)
    assert retry_after_seconds("7", now.timestamp()) == 7.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=12), usegmt=True), now.timestamp()) == 12.0
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=12), usegmt=True), now.timestamp()) == 0.0
    assert retry_after_seconds("soon", now.timestamp()) is None
    assert retry_after_seconds(None, now.timestamp()) is None


@given(attempt=st.integers(min_value=1, max_value=30), jitter=st.floats(min_value=0, max_value=1))
def test_backoff_grows_exponentially_up_to_its_cap_with_bounded_jitter(attempt: int, jitter: float) -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=8.0)
    full = min(8.0, 0.5 * 2 ** (attempt - 1))
    assert full / 2 <= policy.backoff(attempt, lambda: jitter) <= full


def _get(transport: TwilioTransport) -> requests.Response:
    return transport.request("GET", NUMBERS, auth=(MAIN, MAIN_TOKEN))  # type: ignore[return-value]


def test_a_429_is_retried_after_what_retry_after_asks(double: TwilioDouble, transport: TwilioTransport, sleeps: list[float]) -> None:
    retried: list[str] = []
    transport.on_retry = retried.append
    double.fail("IncomingPhoneNumbers", 429, times=2, retry_after="3")
    response = _get(transport)
    assert response.status_code == 200
    assert sleeps == [3.0, 3.0] and retried == ["rate_limited", "rate_limited"]
    assert len(double.requests("IncomingPhoneNumbers")) == 3


def test_retry_after_is_capped(double: TwilioDouble, transport: TwilioTransport, sleeps: list[float]) -> None:
    double.fail("IncomingPhoneNumbers", 429, times=1, retry_after="3600")
    assert _get(transport).status_code == 200
    assert sleeps == [RetryPolicy().max_retry_after]


def test_5xx_answers_are_retried_with_backoff_then_handed_back(
    double: TwilioDouble, transport: TwilioTransport, sleeps: list[float]
) -> None:
    double.fail("IncomingPhoneNumbers", 503, times=10)
    response = _get(transport)
    assert response.status_code == 503
    assert sleeps == [0.5, 1.0, 2.0]  # jitter pinned at its top (random() == 1.0)
    assert len(double.requests("IncomingPhoneNumbers")) == RetryPolicy().attempts


def test_a_refused_connection_is_retried_then_raised(double: TwilioDouble, transport: TwilioTransport, sleeps: list[float]) -> None:
    retried: list[str] = []
    transport.on_retry = retried.append
    double.down()
    with pytest.raises(requests.ConnectionError):
        _get(transport)
    assert retried == ["unreachable"] * 3 and len(sleeps) == 3


def test_only_reads_are_repeated(double: TwilioDouble, transport: TwilioTransport, sleeps: list[float]) -> None:
    double.fail("IncomingPhoneNumbers", 503, times=10)
    response = transport.request("POST", NUMBERS, data={"FriendlyName": "x"}, auth=(MAIN, MAIN_TOKEN))
    assert response.status_code == 503 and sleeps == [] and len(double.requests("IncomingPhoneNumbers")) == 1


def test_an_http_date_retry_after_is_measured_with_the_injected_clock(double: TwilioDouble, sleeps: list[float]) -> None:
    clock = FakeClock(datetime(2026, 6, 1, 15, 0, tzinfo=UTC))
    transport = TwilioTransport(base_url=double.url, sleep=sleeps.append, clock=clock)
    when = format_datetime(datetime(2026, 6, 1, 15, 0, 5, tzinfo=UTC), usegmt=True)
    double.fail("IncomingPhoneNumbers", 429, times=1, retry_after=when)
    assert _get(transport).status_code == 200
    assert sleeps == [5.0]
