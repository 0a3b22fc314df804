"""``GET /healthz``: can this instance decide, and is its audit log keeping up."""

from __future__ import annotations

import os
import time

from flask import Blueprint, Response, jsonify

from prometheus_client import CONTENT_TYPE_LATEST

from ..errors import StoreUnavailable
from ..metrics import exposition
from ..store.audit import BatchingAuditLog
from ..store.database import redact_url
from .state import current_state

health = Blueprint("callguard_health", __name__)


@health.get("/metrics")
def metrics() -> Response:
    return Response(exposition(), mimetype="text/plain", headers={"Content-Type": CONTENT_TYPE_LATEST})


@health.get("/healthz")
def healthz() -> Response:
    state = current_state()
    policy = state.guard.policy
    database: dict[str, object] = {"url": redact_url(state.settings.database_url)}
    try:
        started = time.perf_counter()
        state.audit_sql.ping()
        database.update(ok=True, latency_ms=round((time.perf_counter() - started) * 1000, 2))
    except StoreUnavailable as exc:
        database.update(ok=False, error=str(exc))
    counters: dict[str, object] = {}
    if state.counters is not None:
        counters["backend"] = state.counters.name
        try:
            started = time.perf_counter()
            state.counters.ping()
            counters.update(ok=True, latency_ms=round((time.perf_counter() - started) * 1000, 2))
        except StoreUnavailable as exc:
            counters.update(ok=False, error=str(exc))
    if state.alerts is not None:
        counters["alerts"] = {"delivered": state.alerts.delivered, "failed": state.alerts.failed}
    audit: dict[str, object] = {"mode": state.settings.audit_mode}
    if isinstance(state.audit, BatchingAuditLog):
        stats = state.audit.stats()
        audit.update(
            queued=stats.queued,
            written=stats.written,
            dropped=stats.dropped,
            failed_batches=stats.failed_batches,
            last_error=stats.last_error,
        )
    refresh = state.refresher.status()
    runtime = {
        "overrides_version": refresh.overrides_version,
        "last_refresh_ok_at": refresh.last_refresh_ok_at,
        "last_error": refresh.last_error,
    }
    now = state.settings.clock()
    registries = [
        {
            "name": info.name,
            "regions": sorted(info.regions),
            "numbers": info.count,
            "as_of": info.as_of,
            "age_days": round(info.age_days(now), 1),
            "stale": info.is_stale(now),
        }
        for info in (state.registries.infos() if state.registries is not None else [])
    ]
    registry_errors = getattr(state.registries, "errors", {}) if state.registries is not None else {}
    degraded = (
        not database["ok"]
        or bool(audit.get("dropped"))
        or refresh.last_error is not None
        or any(r["stale"] for r in registries)
        or bool(registry_errors)
        or counters.get("ok") is False
    )
    body = {
        # Decisions never depend on the database, so an unreachable database degrades the
        # audit trail but not call handling: still 200, status "degraded".
        "status": "degraded" if degraded else "ok",
        "pid": os.getpid(),
        "policy": {"source": policy.source, "accounts": len(policy.accounts), "blocked_prefixes": len(policy.blocked_prefixes)},
        "database": database,
        "audit": audit,
        "runtime_changes": runtime,
        "registries": registries,
        "registry_errors": registry_errors,
        "traffic_counters": counters,
    }
    return jsonify(body)
