"""Alerts for traffic events: the log line, the webhook with bounded retries, and the worker that
sends them (callguard.runtime.alerts)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from callguard.runtime.alerts import AlertSink
from callguard.traffic.events import TrafficEvent

from ..conftest import MAIN

WAIT = 10.0


class Receiver(http.server.BaseHTTPRequestHandler):
    answers: list[int] = []
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        code = self.answers.pop(0) if self.answers else 204
        if code < 300:
            self.received.append(json.loads(body))
        self.send_response(code)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("Handler", (Receiver,), {"answers": [], "received": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alerts", handler
    server.shutdown()
    server.server_close()


EVENT = TrafficEvent("velocity_block", MAIN, "+371", "Account …: more than 20 calls to +371 within 600 s.", 1.0, 86401.0)


def test_alerts_are_posted_with_retries(receiver: tuple[str, type[Receiver]]) -> None:
    url, handler = receiver
    handler.answers = [503, 500]
    delays: list[float] = []
    sink = AlertSink(lambda: url, attempts=3, backoff=0.5, sleep=delays.append)
    assert sink.deliver(url, json.dumps(EVENT.as_dict()).encode())
    assert handler.received == [EVENT.as_dict()] and delays == [0.5, 1.0]


def test_alert_retries_are_bounded(receiver: tuple[str, type[Receiver]]) -> None:
    url, handler = receiver
    handler.answers = [500, 500, 500, 500]
    delays: list[float] = []
    sink = AlertSink(lambda: url, attempts=3, sleep=delays.append)
    assert not sink.deliver(url, b"{}") and sink.failed == 1 and len(delays) == 2 and handler.received == []


def test_alerts_go_to_the_log_and_the_queue(receiver: tuple[str, type[Receiver]], caplog: pytest.LogCaptureFixture) -> None:
    url, handler = receiver
    sink = AlertSink(lambda: url, sleep=lambda s: None)  # its worker not started: drained on this thread
    with caplog.at_level("WARNING", logger="callguard.alerts"):
        sink(EVENT)
    assert '"kind": "velocity_block"' in caplog.text
    sink.drain()
    assert handler.received == [EVENT.as_dict()]


def test_an_alert_wakes_the_sender(receiver: tuple[str, type[Receiver]]) -> None:
    url, handler = receiver
    sink = AlertSink(lambda: url, sleep=lambda s: None)
    sink.worker.start()
    try:
        assert sink.worker.health().runs == 0  # idle: it looks at the queue only once a minute
        sink(EVENT)
        assert sink.worker.wait_for_runs(1, WAIT)
        assert handler.received == [EVENT.as_dict()] and sink.delivered == 1 and sink.queued == 0
    finally:
        sink.worker.stop()


def test_a_drain_returns_once_the_alert_the_worker_took_is_delivered(
    receiver: tuple[str, type[Receiver]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = receiver
    sink = AlertSink(lambda: url, sleep=lambda s: None)
    taken, release = threading.Event(), threading.Event()
    deliver = sink.deliver

    def held_deliver(target: str, body: bytes) -> bool:
        taken.set()
        release.wait(WAIT)
        return deliver(target, body)

    monkeypatch.setattr(sink, "deliver", held_deliver)
    sink.worker.start()
    try:
        sink(EVENT)
        assert taken.wait(WAIT)  # the worker has the alert: the queue is empty, the delivery not done
        threading.Timer(0.2, release.set).start()
        sink.drain()
        assert handler.received == [EVENT.as_dict()]
    finally:
        sink.worker.stop()


def test_no_webhook_no_queue() -> None:
    sink = AlertSink(lambda: None)
    sink(EVENT)
    assert sink.queued == 0 and sink.failed == 0
