"""GET /healthz (callguard.web.health)."""

from __future__ import annotations

from typing import Any


def test_healthy(app: Any) -> None:
    body = app.test_client().get("/healthz").get_json()
    assert body["status"] == "ok"
    assert body["policy"]["accounts"] == 4
    assert body["database"]["ok"] is True and body["database"]["url"].startswith("sqlite:///")
    assert body["worker"]["audit"]["mode"] == "sync"
    counters = body["traffic_counters"]
    assert (counters["backend"], counters["ok"], body["worker"]["alerts"]) == ("sqlite", True, {"delivered": 0, "failed": 0})
    assert body["worker"]["breakers"] == {}  # SQLite and no upstream asked: no dependency that could stop answering


def test_database_unreachable(make_app: Any, app_config: dict[str, Any], tmp_path: Any) -> None:
    from callguard.store import SqlAuditLog, create_database_engine

    app = make_app(app_config)
    state = app.extensions["callguard"]
    state.runtime.audit_sql = SqlAuditLog(create_database_engine(f"sqlite:///{tmp_path / 'gone' / 'x.db'}"))
    response = app.test_client().get("/healthz")
    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "degraded" and body["database"]["ok"] is False
    assert "unable to open database" in body["database"]["error"]


def test_batched_audit_stats(make_app: Any, app_config: dict[str, Any]) -> None:
    app = make_app({**app_config, "CALLGUARD_AUDIT_MODE": "batched"})
    body = app.test_client().get("/healthz").get_json()
    assert body["worker"]["audit"] == {"mode": "batched", "queued": 0, "written": 0, "dropped": 0, "failed_batches": 0, "last_error": None}


def test_each_workers_own_figures_are_labelled_as_such(app: Any) -> None:
    import os

    body = app.test_client().get("/healthz").get_json()
    worker = body["worker"]
    assert worker["pid"] == os.getpid()
    assert set(worker) == {"pid", "audit", "alerts", "last_good", "runtime_changes", "background", "breakers"}
    # What every worker shares stays at the top, and nothing per worker is left there.
    assert {"status", "policy", "database", "registries", "traffic_counters", "twilio_sync"} <= set(body)
    assert not {"pid", "audit", "last_good", "runtime_changes", "background"} & set(body) and "alerts" not in body["traffic_counters"]


def test_each_background_thread_of_the_worker_reports_its_health(make_app: Any, app_config: dict[str, Any]) -> None:
    app = make_app({**app_config, "CALLGUARD_AUDIT_MODE": "batched", "CALLGUARD_REFRESH_INTERVAL": 60})
    state = app.extensions["callguard"]
    audit_writer = next(w for w in state.runtime.workers if w.name == "audit-writer")
    audit_writer.wake()
    assert audit_writer.wait_for_runs(1, 10.0)
    body = app.test_client().get("/healthz").get_json()
    background = body["worker"]["background"]
    assert set(background) == {"policy-refresh", "alerts", "audit-writer", "traffic-tallies", "counter-chores", "audit-retention"}
    assert all(figures["running"] and figures["alive"] and figures["last_error"] is None for figures in background.values())
    assert background["audit-writer"]["runs"] >= 1 and body["status"] == "ok"


def test_a_background_thread_that_died_degrades_the_answer(make_app: Any, app_config: dict[str, Any]) -> None:
    app = make_app({**app_config, "CALLGUARD_AUDIT_MODE": "batched"})
    audit_writer = next(w for w in app.extensions["callguard"].runtime.workers if w.name == "audit-writer")
    thread = audit_writer._thread
    assert thread is not None
    audit_writer._stopping.set()  # what no task can do: the thread ends while the worker should run
    audit_writer.wake()
    thread.join(10.0)
    body = app.test_client().get("/healthz").get_json()
    assert body["worker"]["background"]["audit-writer"]["alive"] is False and body["status"] == "degraded"
