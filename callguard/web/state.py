"""What the callguard extension keeps in ``app.extensions["callguard"]``: the :class:`~callguard.runtime.runtime.Runtime`
it serves, and what only the web needs (the signature validator, the API tokens, the upstream client).

The runtime's parts are read through the state (``state.guard``, ``state.optouts`` …), so a view
names what it uses whichever of the two holds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy.engine import Engine

from ..engine import Guard
from ..registry import RegistryDirectory
from ..runtime.admin_tokens import ApiToken
from ..runtime.alerts import AlertSink
from ..runtime.refresh import PolicyRefresher
from ..runtime.runtime import Runtime
from ..runtime.settings import Settings
from ..store.audit import BatchingAuditLog, SqlAuditLog
from ..store.complaints import ComplaintStore
from ..store.consents import ConsentStore
from ..store.last_good import LastGood
from ..store.optouts import OptOutStore
from ..store.overrides import OverrideStore
from ..sync.runner import TwilioSync
from ..sync.scheduler import SyncScheduler
from ..traffic.counters import CounterBackend
from ..traffic.monitor import TrafficMonitor
from .signature import SignatureValidator
from .upstream import UpstreamClient

if TYPE_CHECKING:  # the redis extra, imported only when CALLGUARD_REDIS_URL is set
    from ..store.change_notices_redis import ChangeListener, RedisChangePublisher


@dataclass
class CallguardState:
    runtime: Runtime
    validator: SignatureValidator
    api_tokens: tuple[ApiToken, ...] = ()
    upstream: UpstreamClient = field(default_factory=UpstreamClient)

    def close(self) -> None:
        """Close the runtime (its workers stopped, the audit backlog written, connections released) and the upstream client."""
        self.runtime.close()
        self.upstream.close()

    # -- the runtime's parts ------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def guard(self) -> Guard:
        return self.runtime.guard

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    @property
    def audit_sql(self) -> SqlAuditLog:
        return self.runtime.audit_sql

    @property
    def audit(self) -> BatchingAuditLog | SqlAuditLog:
        return self.runtime.audit

    @property
    def optouts(self) -> OptOutStore:
        return self.runtime.optouts

    @property
    def consents(self) -> ConsentStore:
        return self.runtime.consents

    @property
    def complaints(self) -> ComplaintStore:
        return self.runtime.complaints

    @property
    def overrides(self) -> OverrideStore:
        return self.runtime.overrides

    @property
    def refresher(self) -> PolicyRefresher:
        return self.runtime.refresher

    @property
    def registries(self) -> RegistryDirectory:
        return self.runtime.registries

    @property
    def counters(self) -> CounterBackend | None:
        return self.runtime.counters

    @property
    def traffic(self) -> TrafficMonitor | None:
        return self.runtime.traffic

    @property
    def alerts(self) -> AlertSink:
        return self.runtime.alerts

    @property
    def twilio_sync(self) -> TwilioSync:
        return self.runtime.twilio_sync

    @property
    def sync_scheduler(self) -> SyncScheduler:
        return self.runtime.sync_scheduler

    @property
    def change_publisher(self) -> RedisChangePublisher | None:
        return self.runtime.change_publisher

    @property
    def change_listener(self) -> ChangeListener | None:
        return self.runtime.change_listener

    @property
    def last_good(self) -> Mapping[str, LastGood[Any]]:
        return self.runtime.last_good


def current_state() -> CallguardState:
    return current_app.extensions["callguard"]
