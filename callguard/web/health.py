"""``GET /healthz``: can this instance decide, and is its audit log keeping up.

gunicorn runs several workers and each answers ``/healthz`` for itself. What the workers share
(the policy, the database, the counters backend, the registry files, Twilio's picture) is at
the top of the answer; what each worker keeps for itself (its audit queue, alert deliveries,
last good answers, runtime-change refreshes, the health of each of its background threads, and
its breakers: one per dependency, open while it is not asked) is under ``worker``, with its pid.
``/metrics`` adds every worker's counts up.
"""

from __future__ import annotations

import os
import time

from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST

from ..breaker import CLOSED, BreakerStatus
from ..errors import StoreUnavailable
from ..paths import HEALTHZ, METRICS
from ..policy.model import Policy, TwilioMode
from ..policy.twilio_snapshot import TwilioSnapshot
from ..runtime.metrics import exposition
from ..store.audit import BatchingAuditLog
from ..store.database import database_bounds, redact_url
from .state import CallguardState, current_state

health = Blueprint("callguard_health", __name__)


@health.get(METRICS)
def metrics() -> Response:
    return Response(exposition(), mimetype="text/plain", headers={"Content-Type": CONTENT_TYPE_LATEST})


def twilio_accounts_health(policy: Policy, snapshot: TwilioSnapshot, now: float, max_staleness: float) -> list[dict[str, object]]:
    """Per synced account: when Twilio was last read, how old that is, whether it is too old, the last error."""
    accounts: list[dict[str, object]] = []
    for account in policy.accounts.values():
        if account.twilio_mode is TwilioMode.OFF:
            continue
        synced = snapshot.accounts.get(account.sid)
        synced_at = synced.synced_at if synced is not None else None
        accounts.append(
            {
                "sid": account.sid,
                "mode": account.twilio_mode.value,
                "twilio_status": synced.status if synced is not None else None,
                "synced_at": synced_at,
                "age_seconds": round(now - synced_at, 1) if synced_at is not None else None,
                "stale": synced_at is None or now >= synced_at + max_staleness,
                "last_attempt_at": synced.attempted_at if synced is not None else None,
                "last_error": synced.last_error if synced is not None else None,
                "twilio_caller_ids": len(synced.caller_ids) if synced is not None else 0,
            }
        )
    return accounts


def breakers(state: CallguardState) -> dict[str, dict[str, object]]:
    """This worker's breakers: the database's (PostgreSQL), Redis's, and each upstream origin's asked so far."""
    statuses: list[BreakerStatus] = []
    bounds = database_bounds(state.engine)
    if bounds is not None:
        statuses.append(bounds.breaker.status())
    redis_breaker = getattr(state.counters, "breaker", None)
    if redis_breaker is not None:
        statuses.append(redis_breaker.status())
    statuses.extend(state.upstream.breaker_statuses())
    return {s.name: {"state": s.state, "opened": s.failures, "retry_in_s": round(s.retry_in, 2)} for s in statuses}


@health.get(HEALTHZ)
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
    alerts = {"delivered": state.alerts.delivered, "failed": state.alerts.failed}
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
        # After this (by the app's clock) calls follow the fail mode until the database answers.
        "fresh_until": refresh.fresh_until,
        "change_notices": "redis" if state.change_listener is not None else "polling",
        "change_notices_connected": state.change_listener.connected if state.change_listener is not None else None,
        "change_notices_handled": state.change_listener.handled if state.change_listener is not None else None,
    }
    last_good = {
        name: {"entries": stats.entries, "maxsize": stats.maxsize, "ttl_s": stats.ttl, "stale_answers": stats.stale_answers,
               "database_unavailable": stats.unavailable}
        for name, stats in ((name, kept.stats()) for name, kept in state.last_good.items())
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
        for info in state.registries.infos()
    ]
    registry_errors = state.registries.errors
    # Each background thread of this worker; one that should run but does not degrades the answer.
    background = {name: figures.as_dict() for name, figures in state.runtime.health().items()}
    snapshot = state.refresher.twilio_snapshot
    synced_accounts = twilio_accounts_health(policy, snapshot, now, state.settings.twilio_max_staleness)
    breaker_states = breakers(state)
    degraded = (
        not database["ok"]
        or bool(audit.get("dropped"))
        or refresh.last_error is not None
        or runtime["change_notices_connected"] is False
        or any(r["stale"] for r in registries)
        or bool(registry_errors)
        or counters.get("ok") is False
        or any(a["stale"] or a["last_error"] for a in synced_accounts)
        or any(figures["running"] and not figures["alive"] for figures in background.values())
        or any(b["state"] != CLOSED for b in breaker_states.values())
    )
    body = {
        # Decisions never depend on the database, so an unreachable database degrades the
        # audit trail but not call handling: still 200, status "degraded".
        "status": "degraded" if degraded else "ok",
        "policy": {"source": policy.source, "accounts": len(policy.accounts), "blocked_prefixes": len(policy.blocked_prefixes)},
        "database": database,
        "registries": registries,
        "registry_errors": registry_errors,
        "traffic_counters": counters,
        "twilio_sync": {
            "interval_seconds": state.settings.twilio_sync_interval,
            "max_staleness_seconds": state.settings.twilio_max_staleness,
            "snapshot_version": snapshot.version,
            "accounts": synced_accounts,
        },
        # This worker's own figures: the others keep theirs.
        "worker": {
            "pid": os.getpid(), "audit": audit, "alerts": alerts, "last_good": last_good, "runtime_changes": runtime,
            "background": background, "breakers": breaker_states,
        },
    }
    return jsonify(body)
