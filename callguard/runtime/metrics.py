"""Prometheus metrics: decisions by action and reason, decision latency, faults, store errors and Twilio sync runs.

Under ``callguard serve`` several gunicorn workers each count their own decisions; the server
points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory before any worker starts, and
``/metrics`` then sums every worker (prometheus-client's multiprocess mode). Under another
server, set ``PROMETHEUS_MULTIPROC_DIR`` yourself, or ``/metrics`` shows one worker's counts.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from typing import Any, Callable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess, values

from ..decision import Decision

DECISIONS = Counter(
    "callguard_decisions_total", "Decisions made, by action and deciding reason.", ["action", "reason"]
)
DECISION_SECONDS = Histogram(
    "callguard_decision_seconds",
    "Time the engine took to decide.",
    buckets=(5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 0.1),
)
FAULTS = Counter("callguard_faults_total", "Decisions made by the fail mode after an internal fault, by error kind.", ["kind"])
UPSTREAM_FAILURES = Counter(
    "callguard_upstream_failures_total",
    "Wrapped handlers and proxied apps whose answer could not be used, by reason (upstream.timeout, upstream.invalid …).",
    ["reason"],
)
STORE_ERRORS = Counter(
    "callguard_store_errors_total", "Errors of the database, counters backend or Twilio, by backend and operation.", ["backend", "operation"]
)
TWILIO_SYNC_RUNS = Counter("callguard_twilio_sync_runs_total", "Twilio sync runs, by outcome (ok, partial, failed).", ["outcome"])
TWILIO_SYNC_ERRORS = Counter(
    "callguard_twilio_sync_errors_total",
    "Accounts a Twilio sync run could not read, by kind (unreachable, rate_limited, server_error, auth, not_found, …).",
    ["kind"],
)
TWILIO_RETRIES = Counter(
    "callguard_twilio_retries_total", "Twilio REST requests retried, by reason (rate_limited, server_error, unreachable).", ["reason"]
)


def upstream_failure(reason: str) -> None:
    UPSTREAM_FAILURES.labels(reason=reason).inc()


def store_error(backend: str, operation: str | None) -> None:
    STORE_ERRORS.labels(backend=backend, operation=operation or "unknown").inc()


class _Observer:
    """``histogram.observe`` without its checks and loop, where prometheus-client's children are as expected.

    Every decision is observed. prometheus-client keeps a histogram as a value per bucket (only
    the first bucket at or above an observation is incremented; the exposition sums them) and
    a value for the sum; this increments the same two values, finding the bucket by bisection.
    A prometheus-client laid out otherwise gets the public ``observe``."""

    def __init__(self, histogram: Histogram) -> None:
        bounds, buckets, total = (getattr(histogram, name, None) for name in ("_upper_bounds", "_buckets", "_sum"))
        fast = isinstance(bounds, list) and isinstance(buckets, list) and len(bounds) == len(buckets) and all(
            hasattr(value, "inc") for value in (*buckets, total)
        )
        if fast and bounds[-1] == float("inf"):
            self._bounds, self._buckets, self._sum = bounds, buckets, total
            self.observe = self._observe
        else:
            self.observe = histogram.observe

    def _observe(self, amount: float) -> None:
        self._sum.inc(amount)
        self._buckets[bisect_left(self._bounds, amount)].inc(1)


def counter_increment(counter: Counter) -> Callable[[float], None]:
    """``counter.inc`` without its per-call checks (observability, sign, exemplar), where the
    labelled child keeps its value as prometheus-client does; else the public ``inc``."""
    inc = getattr(getattr(counter, "_value", None), "inc", None)
    return inc if callable(inc) else counter.inc


class MetricsRecorder:
    """An audit sink that counts each decision, then hands it to the real sink."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        # The increment of each (action, reason) seen, so a decision costs no label lookup (a lock,
        # a validation of the label values) in prometheus-client.
        self._counters: dict[tuple[str, str], Callable[[float], None]] = {}
        self._observe = _Observer(DECISION_SECONDS).observe

    def record(self, decision: Decision) -> None:
        key = (decision.action._value_, decision.reasons[0] if decision.reasons else "none")  # not .value: an enum property
        increment = self._counters.get(key)
        if increment is None:
            increment = self._counters[key] = counter_increment(DECISIONS.labels(action=key[0], reason=key[1]))
        increment(1)
        self._observe(decision.elapsed_us / 1e6)
        if decision.fault is not None:
            kind, _, rest = decision.fault.partition(": ")
            FAULTS.labels(kind=kind).inc()
            if kind == "StoreUnavailable":  # "backend (operation): problem"
                backend, _, after = rest.partition(" ")
                operation = after[1:].partition(")")[0] if after.startswith("(") else None
                store_error(backend.rstrip(":"), operation)
        self.inner.record(decision)  # type: ignore[attr-defined]


def _counting_in_files() -> bool:
    # prometheus-client chose, when it was imported, whether this process counts in memory or in
    # the multiprocess directory; the environment may have changed since.
    return values.ValueClass is not values.MutexValue and bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition() -> bytes:
    """The metrics in Prometheus's text format, summed over workers in multiprocess mode."""
    if _counting_in_files():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
