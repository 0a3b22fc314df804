"""A runtime's lifecycle: its workers started and stopped, its resources released in one order (callguard.runtime.runtime)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from callguard import DialRequest
from callguard.registry import RegistryDirectory
from callguard.runtime.runtime import Runtime
from callguard.store import SqlAuditLog, create_database_engine
from callguard.store.audit import BatchingAuditLog
from callguard.store.counters_sqlite import SqliteCounters
from callguard.traffic import keys
from callguard.traffic.counters import ReadTallies
from callguard.traffic.monitor import TrafficMonitor

from ..conftest import MAIN

SERVER_WORKERS = ["policy-refresh", "alerts", "audit-writer", "traffic-tallies", "counter-chores", "audit-retention"]


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("callguard-")}


def test_start_starts_every_worker_and_close_stops_them(make_runtime: Callable[..., Runtime], runtime_config: dict[str, Any]) -> None:
    before = _threads()
    runtime = make_runtime(runtime_config)
    assert [w.name for w in runtime.workers] == SERVER_WORKERS  # in the order they stop
    assert _threads() == before and not any(w.running for w in runtime.workers)  # assembled, not started
    runtime.start()
    runtime.start()  # once only
    assert all(h.running and h.alive for h in runtime.health().values())
    assert _threads() - before == {f"callguard-{name}" for name in SERVER_WORKERS}
    runtime.close()
    runtime.close()  # idempotent
    assert not any(h.running or h.alive for h in runtime.health().values())
    runtime.start()  # a closed runtime stays closed
    assert not any(w.running for w in runtime.workers)


def test_close_writes_what_the_workers_hold_before_releasing_what_they_write_to(
    make_runtime: Callable[..., Runtime], runtime_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    """The audit backlog is written before the engine is disposed, the report counts before the
    counters close; the resources go the last opened first, the database engine last."""
    seen: list[str] = []
    holder: dict[str, Runtime] = {}

    def record(cls: type, method: str, label: Callable[[], str]) -> None:
        real = getattr(cls, method)

        def recording(self: Any, *args: Any, **kwargs: Any) -> Any:
            # The audit retention's own engine (its maintenance connections) goes with the workers.
            if not (isinstance(self, Engine) and self is not holder["runtime"].engine):
                seen.append(label())
            return real(self, *args, **kwargs)

        monkeypatch.setattr(cls, method, recording)

    def counted() -> str:
        runtime = holder["runtime"]
        now = runtime.settings.clock()
        (calls,) = runtime.counters.run([ReadTallies(keys.country_calls(MAIN, "US"), (keys.day_bucket(now),))], now)  # type: ignore[union-attr]
        return f"counters closed holding {sum(calls.values())} call"

    record(BatchingAuditLog, "close", lambda: "audit backlog written")
    record(TrafficMonitor, "close", lambda: "report counts written")
    record(SqliteCounters, "close", counted)
    record(RegistryDirectory, "close", lambda: "registries closed")
    record(Engine, "dispose", lambda: f"engine disposed with {holder['runtime'].audit.stats().queued} rows queued")  # type: ignore[union-attr]
    runtime = holder["runtime"] = make_runtime(runtime_config)
    runtime.start()
    decision = runtime.guard.check(DialRequest(MAIN, "+14155550123", "+14155550100", call_sid="CA-close"))
    assert decision.action.value == "connect" and runtime.audit.stats().queued == 1  # type: ignore[union-attr]
    runtime.close()
    assert seen == [
        "audit backlog written",
        "report counts written",  # the tallies worker's final step
        "report counts written",  # and once more as a resource: nothing left by then
        "counters closed holding 1 call",
        "registries closed",
        "engine disposed with 0 rows queued",
    ]
    engine = create_database_engine(sqlite_url)
    assert [r.call_sid for r in SqlAuditLog(engine).recent(10)] == ["CA-close"]
    engine.dispose()


def test_a_runtime_is_a_context_manager(make_runtime: Callable[..., Runtime], runtime_config: dict[str, Any]) -> None:
    with make_runtime(runtime_config) as runtime:
        runtime.start()
        assert runtime.health()["audit-writer"].alive
    assert runtime.closed and not runtime.health()["audit-writer"].alive


def test_start_applies_the_log_level(make_runtime: Callable[..., Runtime], runtime_config: dict[str, Any]) -> None:
    import logging

    logger = logging.getLogger("callguard")
    level = logger.level
    try:
        make_runtime({**runtime_config, "CALLGUARD_LOG_LEVEL": "error"}).start()
        assert logger.level == logging.ERROR
    finally:
        logger.setLevel(level)


def test_start_applies_log_numbers(make_runtime: Callable[..., Runtime], runtime_config: dict[str, Any]) -> None:
    from callguard.loggers import show_full_numbers, showing_full_numbers

    assert make_runtime(runtime_config).settings.log_numbers == "masked"
    try:
        make_runtime({**runtime_config, "CALLGUARD_LOG_NUMBERS": "full"}).start()
        assert showing_full_numbers()
        make_runtime(runtime_config).start()  # the last runtime started decides
        assert not showing_full_numbers()
    finally:
        show_full_numbers(False)
