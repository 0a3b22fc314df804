"""HTTP to apps behind callguard: signing, timeouts, size bounds (callguard.web.upstream).

The upstream is a real Flask app on loopback that checks every signature itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from callguard.errors import UpstreamError
from callguard.web.upstream import UpstreamClient

from ..conftest import MAIN_TOKEN, dial_params, free_port
from ..faults.trickle import TrickleServer
from ..voice_apps import UpstreamApp, make_upstream_app

SIGNER = RequestValidator(MAIN_TOKEN)


@pytest.fixture
def upstream(wsgi_server: Callable[[Any], str]) -> tuple[UpstreamApp, str]:
    app = make_upstream_app(MAIN_TOKEN)
    return app, wsgi_server(app.app)


def send(
    client: UpstreamClient, url: str, *, method: str = "POST", signer: RequestValidator = SIGNER, read_timeout: float = 5.0, **params: str
) -> Any:
    return client.send(
        method, url, params=list(dial_params("+14155550123", **params).items()), signer=signer,
        headers={"I-Twilio-Idempotency-Token": "abc"}, connect_timeout=2.0, read_timeout=read_timeout,
    )


def test_a_post_is_signed_for_the_upstream_url(upstream: tuple[UpstreamApp, str]) -> None:
    app, base = upstream
    answer = send(UpstreamClient(), f"{base}/voice/incoming?lang=en")
    assert answer.status == 200 and answer.content_type.startswith("text/xml") and b"+14155550123" in answer.body
    (received,) = app.received
    assert received.params["To"] == ["+14155550123"] and received.params["lang"] == ["en"]
    assert received.headers["I-Twilio-Idempotency-Token"] == "abc" and received.headers["User-Agent"] == "TwilioProxy/1.1"


def test_a_get_carries_the_parameters_in_the_query(upstream: tuple[UpstreamApp, str]) -> None:
    app, base = upstream
    assert send(UpstreamClient(), f"{base}/voice/incoming", method="GET").status == 200
    assert app.received[0].method == "GET" and app.received[0].params["To"] == ["+14155550123"]


def test_a_compressed_answer_is_decoded(upstream: tuple[UpstreamApp, str]) -> None:
    _, base = upstream
    assert send(UpstreamClient(), f"{base}/voice/gzipped").body.startswith(b'<?xml version="1.0" encoding="UTF-8"?><Response><Dial>')


def test_a_wrong_token_is_refused_by_the_app(upstream: tuple[UpstreamApp, str]) -> None:
    _, base = upstream
    with pytest.raises(UpstreamError) as caught:
        send(UpstreamClient(), f"{base}/voice/incoming", signer=RequestValidator("another-token"))
    assert caught.value.reason == "upstream.status" and "403" in caught.value.problem


@pytest.mark.parametrize(
    ("path", "reason"), [("/voice/error", "upstream.status"), ("/voice/moved", "upstream.status"), ("/voice/huge", "upstream.invalid")]
)
def test_unusable_answers(upstream: tuple[UpstreamApp, str], path: str, reason: str) -> None:
    _, base = upstream
    with pytest.raises(UpstreamError) as caught:
        send(UpstreamClient(), base + path)
    assert caught.value.reason == reason and caught.value.url == base + path


def test_a_streamed_answer_past_the_size_bound_is_cut(upstream: tuple[UpstreamApp, str]) -> None:
    _, base = upstream
    with pytest.raises(UpstreamError, match="longer than 40 bytes") as caught:
        send(UpstreamClient(max_bytes=40), f"{base}/voice/trickle")
    assert caught.value.reason == "upstream.invalid"


def test_a_slow_answer_times_out(upstream: tuple[UpstreamApp, str]) -> None:
    app, base = upstream
    try:
        with pytest.raises(UpstreamError) as caught:
            send(UpstreamClient(), f"{base}/voice/slow", read_timeout=0.3)
        assert caught.value.reason == "upstream.timeout"
    finally:
        app.release.set()


def test_an_answer_still_arriving_at_the_deadline_is_given_up(upstream: tuple[UpstreamApp, str]) -> None:
    _, base = upstream
    ticks = iter(range(0, 1000, 3))  # every look at the clock is 3 s later
    with pytest.raises(UpstreamError, match="not complete within 5 s") as caught:
        send(UpstreamClient(clock=lambda: float(next(ticks))), f"{base}/voice/trickle")
    assert caught.value.reason == "upstream.timeout"


def test_nobody_listening(upstream: tuple[UpstreamApp, str]) -> None:
    with pytest.raises(UpstreamError) as caught:
        send(UpstreamClient(), f"http://127.0.0.1:{free_port()}/voice/incoming")
    assert caught.value.reason == "upstream.unavailable"


def test_an_answer_whose_headers_trickle_in_is_given_up_at_the_deadline() -> None:
    # One byte every 0.25 s: no single read waits anywhere near the 1 s timeout, and the whole
    # answer takes 40 s. The exchange (connect, headers, body) must still end at 1 s.
    server = TrickleServer(interval=0.25)
    outcome: list[BaseException | float] = []

    def call() -> None:
        started = time.monotonic()
        try:
            send(UpstreamClient(), server.url, read_timeout=1.0)
        except UpstreamError as exc:
            outcome.append(exc)
        outcome.append(time.monotonic() - started)

    caller = threading.Thread(target=call, daemon=True)
    try:
        caller.start()
        caller.join(timeout=3.0)
        assert not caller.is_alive(), "the answer's headers held the request past its read timeout"
    finally:
        server.close()
    error, elapsed = outcome
    assert isinstance(error, UpstreamError) and error.reason == "upstream.timeout"
    assert isinstance(elapsed, float) and elapsed < 1.3
