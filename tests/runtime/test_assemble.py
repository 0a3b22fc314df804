"""The composition root: what assemble() builds for a server and for a what-if (callguard.runtime.assemble)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from callguard import DialRequest
from callguard.errors import ConfigError
from callguard.runtime.assemble import assemble
from callguard.runtime.runtime import Runtime
from callguard.runtime.settings import Settings
from callguard.store import SqlAuditLog
from callguard.store.audit import BatchingAuditLog
from callguard.store.overrides import OverrideStore

from ..conftest import MAIN

WAIT = 10.0


def test_a_server_runtime_decides_with_the_runtime_changes_applied_from_the_first_call(
    make_runtime: Callable[..., Runtime], runtime_config: dict[str, Any], sqlite_url: str
) -> None:
    first = make_runtime(runtime_config)
    first.overrides.set_suspended(MAIN, True, reason="fraud", actor="ops", now=0)
    second = make_runtime(runtime_config)  # a second worker, started after the change
    assert second.guard.check(DialRequest(MAIN, "+14155550123", "+14155550100")).reasons[0] == "account.suspended"
    assert isinstance(second.audit, BatchingAuditLog) and second.traffic is not None and second.counters is not None
    assert second.change_listener is None and second.change_publisher is None  # no Redis: changes arrive by polling


def test_a_what_if_runs_no_worker_writes_only_its_audit_row_and_creates_no_counters_file(
    make_runtime: Callable[..., Runtime], runtime_config: dict[str, Any]
) -> None:
    counters_path = Path(runtime_config["CALLGUARD_COUNTERS_PATH"])
    before = {t.name for t in threading.enumerate()}
    runtime = make_runtime(runtime_config, what_if=True)
    runtime.start()
    assert runtime.workers == () and {t.name for t in threading.enumerate()} == before
    assert runtime.counters is None and runtime.traffic is None and not counters_path.exists()  # no server has counted here
    assert isinstance(runtime.audit, SqlAuditLog) and runtime.refresher.status().fresh_until is None
    decision = runtime.guard.check(DialRequest(MAIN, "+14155550123", "+14155550100", call_sid="CA-what-if", what_if=True))
    assert decision.action.value == "connect"
    assert [r.call_sid for r in runtime.audit_sql.recent(10)] == ["CA-what-if"]  # written as it was made
    runtime.close()
    assert not counters_path.exists()


def test_a_what_if_reads_the_counters_a_server_keeps(make_runtime: Callable[..., Runtime], runtime_config: dict[str, Any]) -> None:
    server = make_runtime(runtime_config)
    server.start()
    assert server.guard.check(DialRequest(MAIN, "+14155550123", "+14155550100", call_sid="CA-real")).action.value == "connect"
    assert os.path.exists(runtime_config["CALLGUARD_COUNTERS_PATH"])
    what_if = make_runtime(runtime_config, what_if=True, record_decisions=False)
    assert what_if.traffic is not None and what_if.workers == ()
    assert what_if.guard.check(DialRequest(MAIN, "+14155550124", "+14155550100", what_if=True)).action.value == "connect"
    what_if.close()
    server.close()
    assert [r.call_sid for r in server.audit_sql.recent(10)] == ["CA-real"]  # the what-if recorded nothing


def test_a_server_prunes_the_audit_log_to_its_retention_from_the_start(
    make_runtime: Callable[..., Runtime], runtime_config: dict[str, Any]
) -> None:
    clock = runtime_config["CALLGUARD_CLOCK"]
    old = make_runtime({**runtime_config, "CALLGUARD_AUDIT_MODE": "sync"}, what_if=True)
    old.guard.check(DialRequest(MAIN, "+14155550123", "+14155550100", call_sid="CA-old"))
    clock.advance(31 * 86_400)
    old.guard.check(DialRequest(MAIN, "+14155550123", "+14155550100", call_sid="CA-new"))
    server = make_runtime({**runtime_config, "CALLGUARD_AUDIT_RETENTION": "30d"})
    server.start()
    pruner = next(w for w in server.workers if w.name == "audit-retention")
    assert pruner.wait_for_runs(1, WAIT) and pruner.health().last_error is None
    assert [r.call_sid for r in server.audit_sql.recent(10)] == ["CA-new"]


def test_a_sqlite_audit_log_kept_forever_needs_no_pruning_worker(
    make_runtime: Callable[..., Runtime], runtime_config: dict[str, Any]
) -> None:
    runtime = make_runtime({**runtime_config, "CALLGUARD_AUDIT_RETENTION": "forever"})
    assert runtime.settings.audit_retention is None
    assert "audit-retention" not in [w.name for w in runtime.workers]


def test_a_failed_assembly_releases_what_it_opened(
    runtime_config: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disposed: list[Engine] = []
    real = Engine.dispose

    def dispose(self: Engine, *args: Any, **kwargs: Any) -> None:
        disposed.append(self)
        real(self, *args, **kwargs)

    monkeypatch.setattr(Engine, "dispose", dispose)
    registries = tmp_path / "registries"
    registries.mkdir()
    (registries / "us_ftc.cgreg").write_bytes(b"not a registry file")
    with pytest.raises(ConfigError):
        assemble(Settings.from_mapping(runtime_config), runtime_config)
    assert len(disposed) == 1  # the database was opened (and migrated) before the registries


@pytest.mark.redis
def test_with_redis_every_worker_hears_every_change(
    make_runtime: Callable[..., Runtime], runtime_config: dict[str, Any], redis_server: str, redis_prefix: str
) -> None:
    config = {**runtime_config, "CALLGUARD_REDIS_URL": redis_server, "CALLGUARD_REDIS_PREFIX": redis_prefix}
    here, there = make_runtime(config), make_runtime(config)
    assert [w.name for w in here.workers][0] == "change-notices"  # stopped first: nothing new comes in while the rest stop
    for runtime in (here, there):
        runtime.start()
    assert here.change_listener is not None and there.change_listener is not None
    OverrideStore(here.engine, publisher=here.change_publisher).set_suspended(MAIN, True, reason="fraud", actor="ops", now=0)
    assert there.change_listener.wait_handled(1, WAIT)
    assert there.guard.check(DialRequest(MAIN, "+14155550123", "+14155550100")).reasons[0] == "account.suspended"
