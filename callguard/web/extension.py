"""The Flask extension: ``CallGuard(app)`` or ``guard.init_app(app)``.

It reads the ``CALLGUARD_*`` settings from the app's config, loads and validates the policy
(a bad policy stops start-up with one line naming file, key and problem), resolves every
account's auth token, opens the database, and registers the webhook and health routes and the
policy's proxy routes. Its state lives in ``app.extensions["callguard"]``. ``@guard.protect``
puts the checks on a view of the app that answers Twilio with TwiML.
"""

from __future__ import annotations

import logging

from flask import Flask

from ..runtime.settings import Settings
from ..clock import Clock
from ..engine import Guard
from ..errors import StoreUnavailable
from ..extras import extra_needed
from ..store.counters import open_counters
from ..traffic.alerts import AlertSink
from ..traffic.monitor import TrafficEvent, TrafficMonitor
from ..lookups import Lookups
from ..runtime.metrics import MetricsRecorder
from ..policy.loader import load_policy
from ..store.audit import BatchingAuditLog, SqlAuditLog
from ..store.changes import log_change
from ..store.change_notices import OVERRIDES, ChangeNotice
from ..store.consents import ConsentStore
from ..store.last_good import LastGood, LastGoodConsents, LastGoodOptOuts
from ..store.optouts import OptOutStore
from ..store.overrides import OverrideStore
from ..store.twilio_snapshots import TwilioSnapshotStore
from ..sync.runner import build_twilio_sync
from ..sync.scheduler import SyncScheduler
from ..runtime.refresh import PolicyRefresher
from ..registry import RegistryDirectory
from ..store.database import create_database_engine
from ..store.migrate import ensure_schema
from .admin import api, api_routing_error
from .admin.tokens import parse_admin_tokens
from .compliance import compliance
from .status import status
from .health import health
from .protect import protect
from .proxy import proxy_hook
from .signature import SignatureValidator, resolve_auth_tokens
from .state import CallguardState
from .voice import voice

log = logging.getLogger("callguard")

# Entries per worker of the last good opt-out and consent answers (each lives the stale limit).
LAST_GOOD_ENTRIES = 20_000


def _on_traffic_event(event: TrafficEvent, alerts: AlertSink, overrides: OverrideStore, clock: Clock) -> None:
    """Alert every traffic event, record blocks and throttles in the change log, and suspend the
    account when a trigger asks for it."""
    alerts(event)
    if event.kind in ("velocity_block", "throttle_started"):
        try:
            log_change(
                overrides.engine, now=event.at, actor="traffic", entity="traffic", entity_id=f"{event.account_sid}:{event.subject}", action=event.kind,
                before=None, after=event.as_dict(),
            )
        except StoreUnavailable:
            log.exception("%s of %s could not be recorded in the change log", event.kind, event.account_sid)
    if event.kind == "suspend_requested":
        try:
            overrides.set_suspended(event.account_sid, True, reason=event.sentence, actor="traffic", now=clock())
            log.error("account %s suspended automatically: %s", event.account_sid, event.sentence)
        except StoreUnavailable:
            log.exception("automatic suspension of %s could not be stored", event.account_sid)


def _on_change_notice(notice: ChangeNotice, refresher: PolicyRefresher, kept: tuple[LastGood, ...]) -> None:
    """What a worker does when another (or itself) changed something."""
    if notice.kind == OVERRIDES:
        refresher.refresh_now()
        return
    # An opt-out also revokes consent: forget both answers for the number.
    for last_good in kept:
        if notice.number is None:
            last_good.clear()
        else:
            last_good.forget((notice.number, notice.family))


def _on_missed_notices(refresher: PolicyRefresher, kept: tuple[LastGood, ...]) -> None:
    refresher.refresh_now()
    for last_good in kept:
        last_good.clear()


class CallGuard:
    def __init__(self, app: Flask | None = None, *, register_routes: bool = True) -> None:
        self.register_routes = register_routes
        if app is not None:
            self.init_app(app)

    # ``@guard.protect`` / ``@guard.protect(campaign="…")``: see callguard.web.protect.
    protect = staticmethod(protect)

    def init_app(self, app: Flask) -> CallguardState:
        settings = Settings.from_mapping(app.config)
        if settings.log_level:
            logging.getLogger("callguard").setLevel(settings.log_level)
        policy = load_policy(settings.policy_path)
        tokens, default = resolve_auth_tokens(policy, app.config)
        engine = create_database_engine(settings.database_url)
        ensure_schema(engine, upgrade=settings.auto_migrate)
        audit_sql = SqlAuditLog(engine)
        audit: BatchingAuditLog | SqlAuditLog
        if settings.audit_mode == "sync":
            audit = audit_sql
        else:
            audit = BatchingAuditLog(audit_sql, flush_interval=settings.audit_flush_interval)
        # One Redis configuration for the counters and the change notices (same URL and prefix).
        publisher = None
        if settings.redis_url:
            with extra_needed("redis", setting="CALLGUARD_REDIS_URL"):
                from ..store.change_notices_redis import ChangeListener, RedisChangePublisher
            publisher = RedisChangePublisher(settings.redis_url, prefix=settings.redis_prefix)
        optouts = OptOutStore(engine, publisher=publisher)
        consents = ConsentStore(engine, publisher=publisher)
        overrides = OverrideStore(engine, publisher=publisher)
        kept_optouts: LastGood = LastGood("opt-out lookups", maxsize=LAST_GOOD_ENTRIES, ttl=settings.stale_limit, clock=settings.clock)
        kept_consents: LastGood = LastGood("consent lookups", maxsize=LAST_GOOD_ENTRIES, ttl=settings.stale_limit, clock=settings.clock)
        registries = RegistryDirectory(settings.registry_dir, clock=settings.clock)
        for stale in registries.stale():
            log.warning(
                "registry %s is %.0f days old: the FTC and the CRTC allow 31; download a fresh copy", stale.name, stale.age_days(settings.clock())
            )
        counters = open_counters(settings.redis_url, settings.counters_path, prefix=settings.redis_prefix)
        holder: dict[str, Guard] = {}
        alerts = AlertSink(lambda: settings.alert_webhook or holder["guard"].policy.alert_webhook)
        traffic = TrafficMonitor(
            counters,
            clock=settings.clock,
            deployment_region=settings.region_name,
            on_event=lambda event: _on_traffic_event(event, alerts, overrides, settings.clock),
        )
        lookups = Lookups(
            optouts=LastGoodOptOuts(optouts, kept_optouts),
            consents=LastGoodConsents(consents, kept_consents),
            registries=registries,
            traffic=traffic,
        )
        guard = holder["guard"] = Guard(policy, clock=settings.clock, audit=MetricsRecorder(audit), lookups=lookups)
        refreshing = settings.refresh_interval > 0  # 0: no background refresh, hence no staleness limit
        refresher = PolicyRefresher(
            guard, settings.policy_path, overrides, interval=settings.refresh_interval,
            twilio=TwilioSnapshotStore(engine), twilio_max_staleness=settings.twilio_max_staleness,
            stale_limit=settings.stale_limit if refreshing else None,
        )
        refresher.refresh_now()  # runtime suspensions and blocks, and Twilio's last picture, apply from the first call
        if refreshing:
            refresher.start()
        twilio_sync = build_twilio_sync(
            engine, config=app.config, clock=settings.clock, sleep=settings.sleep,
            interval=settings.twilio_sync_interval, base_url=settings.twilio_base_url,
        )
        scheduler = SyncScheduler(twilio_sync, lambda: refresher.base_policy, poll=min(15.0, settings.twilio_sync_interval))
        if settings.twilio_sync_interval > 0:
            scheduler.start()  # it syncs only while the policy has synced accounts, and only when due
        kept = (kept_optouts, kept_consents)
        listener = None
        if settings.redis_url:
            listener = ChangeListener(
                settings.redis_url,
                prefix=settings.redis_prefix,
                on_notice=lambda notice: _on_change_notice(notice, refresher, kept),
                on_missed=lambda: _on_missed_notices(refresher, kept),
            )
            listener.start()
        state = CallguardState(
            settings=settings,
            guard=guard,
            validator=SignatureValidator(tokens, default),
            engine=engine,
            audit_sql=audit_sql,
            audit=audit,
            optouts=optouts,
            consents=consents,
            overrides=overrides,
            refresher=refresher,
            api_tokens=parse_admin_tokens(app.config),
            registries=registries,
            counters=counters,
            traffic=traffic,
            alerts=alerts,
            twilio_sync=twilio_sync,
            sync_scheduler=scheduler,
            change_publisher=publisher,
            change_listener=listener,
            last_good={"optouts": kept_optouts, "consents": kept_consents},
        )
        app.extensions["callguard"] = state
        if self.register_routes:
            app.register_blueprint(voice)
            app.register_blueprint(compliance)
            app.register_blueprint(status)
            app.register_blueprint(api)
            app.before_request(api_routing_error)  # not an error handler: those would replace the app's own
            app.register_blueprint(health)
            app.before_request(proxy_hook(state))
        log.info(
            "callguard ready: policy %s (%d accounts), registries %s",
            policy.source, len(policy.accounts), ", ".join(sorted(registries.names())) or "none",
        )
        return state
