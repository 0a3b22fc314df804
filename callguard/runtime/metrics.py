"""Prometheus metrics: decisions by action and reason, decision latency, faults, store errors and Twilio sync runs.

Under ``callguard serve`` several gunicorn workers each count their own decisions; the server
points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory before any worker starts, and
``/metrics`` then sums every worker (prometheus-client's multiprocess mode). Under another
server, set ``PROMETHEUS_MULTIPROC_DIR`` yourself, or ``/metrics`` shows one worker's counts.
"""

from __future__ import annotations

import os

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
    "callguard_store_errors_total",
    "Errors of the database, counters backend or Twilio, by backend and operation.",
    ["backend", "operation"],
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


class MetricsRecorder:
    """An audit sink that counts each decision, then hands it to the real sink."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        # The counter of each (action, reason) seen, so a decision costs no label lookup (a lock,
        # a validation of the label values) in prometheus-client.
        self._counters: dict[tuple[str, str], Counter] = {}

    def record(self, decision: Decision) -> None:
        key = (decision.action, decision.reasons[0] if decision.reasons else "none")
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = DECISIONS.labels(action=key[0], reason=key[1])
        counter.inc()
        DECISION_SECONDS.observe(decision.elapsed_us / 1e6)
        fault = decision.fault
        if fault is not None:
            FAULTS.labels(kind=fault.kind).inc()
            if fault.backend is not None:  # a store or counter backend failed
                store_error(fault.backend, fault.operation)
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
