"""What the callguard extension keeps in ``app.extensions["callguard"]``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from flask import current_app
from sqlalchemy.engine import Engine

from ..runtime.settings import Settings
from ..engine import Guard
from ..lookups import RegistryLookup
from .upstream import UpstreamClient
from ..runtime.refresh import PolicyRefresher
from ..store.last_good import LastGood
from ..store.overrides import OverrideStore
from ..store.audit import BatchingAuditLog, SqlAuditLog
from ..store.consents import ConsentStore
from ..store.optouts import OptOutStore
from ..traffic.counters import CounterBackend
from ..sync.runner import TwilioSync
from ..sync.scheduler import SyncScheduler
from ..traffic.alerts import AlertSink
from ..traffic.monitor import TrafficMonitor
from .admin.tokens import ApiToken
from .signature import SignatureValidator

if TYPE_CHECKING:  # the redis extra, imported only when CALLGUARD_REDIS_URL is set
    from ..store.change_notices_redis import ChangeListener, RedisChangePublisher


@dataclass
class CallguardState:
    settings: Settings
    guard: Guard
    validator: SignatureValidator
    engine: Engine
    audit_sql: SqlAuditLog
    audit: BatchingAuditLog | SqlAuditLog
    optouts: OptOutStore
    consents: ConsentStore
    overrides: OverrideStore
    refresher: PolicyRefresher
    registries: RegistryLookup | None = None
    api_tokens: tuple[ApiToken, ...] = ()
    counters: CounterBackend | None = None
    traffic: TrafficMonitor | None = None
    alerts: AlertSink | None = None
    twilio_sync: TwilioSync | None = None
    sync_scheduler: SyncScheduler | None = None
    upstream: UpstreamClient = field(default_factory=UpstreamClient)
    change_publisher: RedisChangePublisher | None = None
    change_listener: ChangeListener | None = None
    last_good: Mapping[str, LastGood[Any]] = field(default_factory=dict)

    def close(self) -> None:
        """Stop background work, write the audit backlog and release database connections."""
        if self.change_listener is not None:
            self.change_listener.stop()
        self.refresher.stop()
        if self.sync_scheduler is not None:
            self.sync_scheduler.stop()
        if isinstance(self.audit, BatchingAuditLog):
            self.audit.close()
        if self.traffic is not None:
            self.traffic.close()
        if self.counters is not None:
            self.counters.close()
        self.upstream.close()
        if self.change_publisher is not None:
            self.change_publisher.close()
        self.engine.dispose()


def current_state() -> CallguardState:
    return current_app.extensions["callguard"]  # type: ignore[no-any-return]
