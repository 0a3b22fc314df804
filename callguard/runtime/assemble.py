"""The composition root: :func:`assemble` builds a :class:`~callguard.runtime.runtime.Runtime` from the settings.

It loads the policy, opens the database (checking or migrating its schema), the audit log, the
opt-out, consent, complaint and runtime-change stores with their last good answers, the registry files, the
traffic counters with their monitor, alerts and report counts, the policy refresher, the Twilio
sync and its schedule, and, with Redis, the change publisher and listener; then the background
workers that keep them going, the audit log's pruning among them (:mod:`callguard.runtime.workers`).
Nothing here knows of Flask: the web extension, ``GuardMiddleware`` and the CLI all start from a Runtime.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from ..breaker import CircuitBreaker
from ..engine import Guard
from ..extras import extra_needed
from ..lookups import Lookups
from ..policy.loader import load_policy
from ..policy.model import Policy
from ..registry import RegistryDirectory
from ..store.audit import BatchingAuditLog, SqlAuditLog
from ..store.audit.pruning import AuditPruner
from ..store.complaints import ComplaintStore
from ..store.consents import ConsentStore
from ..store.counters import open_counters
from ..store.counters_sqlite import SqliteCounters
from ..store.database import create_database_engine
from ..store.last_good import LastGood, LastGoodConsents, LastGoodOptOuts
from ..store.migrate import ensure_schema
from ..store.optouts import OptOutStore
from ..store.overrides import OverrideStore
from ..store.twilio_snapshots import TwilioSnapshotStore
from ..sync.scheduler import SyncScheduler
from ..traffic.counters import CounterBackend
from ..traffic.monitor import TrafficMonitor
from .alerts import AlertSink
from .metrics import MetricsRecorder
from .reactions import on_change_notice, on_missed_notices, on_traffic_event
from .refresh import PolicyRefresher
from .runtime import Runtime
from .settings import Settings
from .twilio_sync import build_twilio_sync
from .worker import BackgroundWorker
from .workers import (
    audit_retention_worker,
    audit_writer_worker,
    change_listener_worker,
    counter_chores_worker,
    policy_refresh_worker,
    traffic_tallies_worker,
    twilio_sync_worker,
)

if TYPE_CHECKING:  # the redis extra, imported only when CALLGUARD_REDIS_URL is set
    from ..store.change_notices_redis import ChangeListener, RedisChangePublisher

# Entries per worker of the last good opt-out and consent answers (each lives the stale limit).
LAST_GOOD_ENTRIES = 20_000
TWILIO_SYNC_POLL = 15.0  # at most this many seconds between looks at whether a Twilio sync is due


def assemble(
    settings: Settings,
    config: Mapping[str, Any],
    *,
    policy: Policy | None = None,
    what_if: bool = False,
    record_decisions: bool = True,
) -> Runtime:
    """Everything a process decides and records with, not started (:meth:`Runtime.start`).

    ``config`` holds what the settings do not: the Twilio credentials the sync reads (as the
    environment or Flask config names them). ``policy`` is the policy file already loaded, if
    the caller has read it to check what depends on it.

    ``what_if`` is a process that decides without serving (``callguard check``): the same
    lookups, registries and counters as the server, the runtime changes and Twilio's picture
    applied, but no background worker, no change notices, decisions written to the audit log as
    they are made (nothing else is written), and the counters opened only where a server counts
    (Redis, or an existing file: a what-if creates none). ``record_decisions=False`` writes no
    audit row either.

    On a failure, whatever was opened is released before the error goes on.
    """
    loaded = load_policy(settings.policy_path) if policy is None else policy
    with ExitStack() as resources:
        breaker = CircuitBreaker("database", cool_off=settings.breaker_cool_off, clock=settings.monotonic)
        engine = create_database_engine(settings.database_url, timeout=settings.database_timeout, breaker=breaker)
        resources.callback(engine.dispose)
        ensure_schema(engine, upgrade=settings.auto_migrate)
        audit_sql = SqlAuditLog(engine)
        audit: BatchingAuditLog | SqlAuditLog = audit_sql
        if settings.audit_mode == "batched" and not what_if:
            audit = BatchingAuditLog(audit_sql, flush_interval=settings.audit_flush_interval)
        # One Redis configuration for the counters and the change notices (same URL and prefix), and one breaker.
        redis_breaker = CircuitBreaker("redis", cool_off=settings.breaker_cool_off, clock=settings.monotonic)
        publisher: RedisChangePublisher | None = None
        if settings.redis_url and not what_if:
            with extra_needed("redis", setting="CALLGUARD_REDIS_URL"):
                from ..store.change_notices_redis import RedisChangePublisher
            publisher = RedisChangePublisher(settings.redis_url, prefix=settings.redis_prefix, breaker=redis_breaker)
            resources.callback(publisher.close)
        optouts = OptOutStore(engine, publisher=publisher)
        consents = ConsentStore(engine, publisher=publisher)
        overrides = OverrideStore(engine, publisher=publisher)
        clock = settings.clock
        kept_optouts: LastGood[Any] = LastGood("opt-out lookups", maxsize=LAST_GOOD_ENTRIES, ttl=settings.stale_limit, clock=clock)
        kept_consents: LastGood[Any] = LastGood("consent lookups", maxsize=LAST_GOOD_ENTRIES, ttl=settings.stale_limit, clock=clock)
        registries = RegistryDirectory(settings.registry_dir, clock=clock)
        resources.callback(registries.close)
        counters: CounterBackend | None = None
        if not what_if or settings.redis_url or os.path.exists(settings.counters_path):
            counters = open_counters(settings.redis_url, settings.counters_path, prefix=settings.redis_prefix, breaker=redis_breaker)
            resources.callback(counters.close)
        # The alert webhook is read per alert: the policy's, as the refresher last replaced it in the guard.
        alerts = AlertSink(lambda: settings.alert_webhook or guard.policy.alert_webhook)
        traffic = None
        if counters is not None:
            traffic = TrafficMonitor(
                counters, clock=clock, deployment_region=settings.region_name,
                on_event=lambda event: on_traffic_event(event, alerts, overrides, clock),
            )
            resources.callback(traffic.close)  # report counts no worker wrote, before the counters close
        lookups = Lookups(
            optouts=LastGoodOptOuts(optouts, kept_optouts),
            consents=LastGoodConsents(consents, kept_consents),
            registries=registries,
            traffic=traffic,
        )
        guard = Guard(loaded, clock=clock, audit=MetricsRecorder(audit) if record_decisions else None, lookups=lookups)
        refreshing = settings.refresh_interval > 0 and not what_if  # without refreshes, no staleness limit
        refresher = PolicyRefresher(
            guard, settings.policy_path, overrides,
            twilio=TwilioSnapshotStore(engine), twilio_max_staleness=settings.twilio_max_staleness,
            stale_limit=settings.stale_limit if refreshing else None,
        )
        refresher.refresh_now()  # runtime suspensions and blocks, and Twilio's last picture, apply from the first call
        twilio_sync = build_twilio_sync(
            engine, config=config, clock=clock, sleep=settings.sleep,
            interval=settings.twilio_sync_interval, base_url=settings.twilio_base_url,
        )
        scheduler = SyncScheduler(twilio_sync, lambda: refresher.base_policy, poll=min(TWILIO_SYNC_POLL, settings.twilio_sync_interval))
        kept = (kept_optouts, kept_consents)
        listener: ChangeListener | None = None
        if publisher is not None:
            from ..store.change_notices_redis import ChangeListener

            listener = ChangeListener(
                settings.redis_url or "",
                prefix=settings.redis_prefix,
                on_notice=lambda notice: on_change_notice(notice, refresher, kept),
                on_missed=lambda: on_missed_notices(refresher, kept),
            )
            resources.callback(listener.close)
        workers: list[BackgroundWorker] = []
        if not what_if:
            # In the order they stop: what brings work in first, then the writers, each with its final step.
            if listener is not None:
                workers.append(change_listener_worker(listener))
            if refreshing:
                workers.append(policy_refresh_worker(refresher, settings.refresh_interval))
            if settings.twilio_sync_interval > 0:  # it syncs only while the policy has synced accounts, and only when due
                workers.append(twilio_sync_worker(scheduler))
            workers.append(alerts.worker)
            if isinstance(audit, BatchingAuditLog):
                workers.append(audit_writer_worker(audit))
            if traffic is not None:
                workers.append(traffic_tallies_worker(traffic))
            if isinstance(counters, SqliteCounters) and counters.background:
                workers.append(counter_chores_worker(counters))
            # Its own connections (an engine connects on first use): a run holds one for seconds
            # (DDL waiting for a lock, batches of deletes), which must not leave the calls' pool
            # empty (with under 2 s left in an answer a call opens no connection of its own).
            maintenance = create_database_engine(settings.database_url, timeout=None)
            resources.callback(maintenance.dispose)
            pruner = AuditPruner(maintenance, settings.audit_retention, clock=clock, sleep=settings.sleep)
            if pruner.needed:  # a retention to apply, or PostgreSQL's months to make ahead
                workers.append(audit_retention_worker(pruner))
        return Runtime(
            settings=settings,
            config=config,
            guard=guard,
            engine=engine,
            audit_sql=audit_sql,
            audit=audit,
            optouts=optouts,
            consents=consents,
            complaints=ComplaintStore(engine, optouts),
            overrides=overrides,
            refresher=refresher,
            registries=registries,
            alerts=alerts,
            twilio_sync=twilio_sync,
            sync_scheduler=scheduler,
            counters=counters,
            traffic=traffic,
            change_publisher=publisher,
            change_listener=listener,
            last_good={"optouts": kept_optouts, "consents": kept_consents},
            workers=tuple(workers),
            resources=resources.pop_all(),
        )
