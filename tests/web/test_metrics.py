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
    faults = {"kind": "StoreUnavailable"}
    assert sample(after, "callguard_faults_total", **faults) - sample(before, "callguard_faults_total", **faults) == 1
    labels = {"backend": "redis", "operation": "counters batch"}
    assert sample(after, "callguard_store_errors_total", **labels) - sample(before, "callguard_store_errors_total", **labels) == 1


def test_store_errors_are_counted_by_the_faults_attributes_not_its_message(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The backend and operation are the fault's own attributes: an operation with parentheses of
    its own is counted as it is named."""
    from callguard.errors import StoreUnavailable

    client = app.test_client()
    labels = {"backend": "postgresql", "operation": "opt-out lookup (batch)"}
    before = sample(client.get("/metrics").get_data(as_text=True), "callguard_store_errors_total", **labels)

    def down(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailable("timed out", backend="postgresql", operation="opt-out lookup (batch)")

    monkeypatch.setattr(app.extensions["callguard"].guard, "_decide", down)
    TwilioClient(app.test_client()).post("/voice/outbound", dial_params("+14155550123"))
    after = client.get("/metrics").get_data(as_text=True)
    assert sample(after, "callguard_store_errors_total", **labels) - before == 1
