"""GET /metrics (callguard.runtime.metrics)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ..conftest import TwilioClient, dial_params


def sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match and ",".join(sorted((match.group(1) or "").split(","))) == wanted:
            return float(match.group(2))
    return 0.0


def test_decisions_are_counted_by_action_and_reason(app: Any) -> None:
    client = app.test_client()
    before = client.get("/metrics").get_data(as_text=True)
    twilio = TwilioClient(app.test_client())
    twilio.post("/voice/outbound", dial_params("+14155550123"))
    twilio.post("/voice/outbound", dial_params("+18765550100"))
    twilio.post("/voice/outbound", dial_params("+18765550100"))
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    after = response.get_data(as_text=True)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("callguard_decisions_total", action="connect", reason="ok") == 1
    assert delta("callguard_decisions_total", action="reject", reason="geo.high_risk_tollfraud") == 2
    assert delta("callguard_decision_seconds_count") == 3


def test_faults_and_store_errors_are_counted(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from callguard.errors import StoreUnavailable

    client = app.test_client()
    before = client.get("/metrics").get_data(as_text=True)

    def down(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailable("connection refused", backend="redis", operation="counters batch")

    monkeypatch.setattr(app.extensions["callguard"].guard, "_decide", down)
    TwilioClient(app.test_client()).post("/voice/outbound", dial_params("+14155550123"))
    after = client.get("/metrics").get_data(as_text=True)
    assert sample(after, "callguard_faults_total", kind="StoreUnavailable") - sample(before, "callguard_faults_total", kind="StoreUnavailable") == 1
    labels = {"backend": "redis", "operation": "counters batch"}
    assert sample(after, "callguard_store_errors_total", **labels) - sample(before, "callguard_store_errors_total", **labels) == 1


def test_the_decision_latency_histogram_holds_what_prometheus_observe_would() -> None:
    """MetricsRecorder observes through prometheus-client's own values: the exposition is the same
    as a histogram with the same buckets fed by its public ``observe``, bucket bounds included."""
    from prometheus_client import CollectorRegistry, Histogram

    from callguard.runtime.metrics import _Observer

    registry = CollectorRegistry()
    buckets = (5e-6, 1e-5, 2.5e-5, 1e-3, 0.1)
    ours = Histogram("ours_seconds", "x", buckets=buckets, registry=registry)
    theirs = Histogram("theirs_seconds", "x", buckets=buckets, registry=registry)
    observe = _Observer(ours).observe
    assert observe != ours.observe  # the fast path is in use with this prometheus-client
    for amount in (0.0, 5e-6, 5.000001e-6, 1e-5, 2e-5, 2.5e-5, 0.0005, 1e-3, 0.05, 0.1, 0.2, 7.0, 5e-6):
        observe(amount)
        theirs.observe(amount)

    def samples(name: str) -> list[tuple[str, dict[str, str], float]]:
        metric = next(m for m in registry.collect() if m.name == name)
        return [(s.name.replace(name, ""), s.labels, s.value) for s in metric.samples if not s.name.endswith("_created")]

    assert samples("ours_seconds") == samples("theirs_seconds")


def test_the_decision_counters_hold_what_prometheus_inc_would() -> None:
    from prometheus_client import CollectorRegistry, Counter

    from callguard.runtime.metrics import counter_increment

    registry = CollectorRegistry()
    ours = Counter("ours", "x", ["action"], registry=registry)
    theirs = Counter("theirs", "x", ["action"], registry=registry)
    increment = counter_increment(ours.labels(action="connect"))
    assert increment != ours.labels(action="connect").inc  # the fast path is in use with this prometheus-client
    for _ in range(3):
        increment(1)
        theirs.labels(action="connect").inc()

    def totals(name: str) -> list[tuple[dict[str, str], float]]:
        metric = next(m for m in registry.collect() if m.name == name)
        return [(s.labels, s.value) for s in metric.samples if s.name.endswith("_total")]

    assert totals("ours") == totals("theirs") == [({"action": "connect"}, 3.0)]
