"""A :class:`Runtime`: everything a callguard process decides and records with, and its lifecycle.

:func:`~callguard.runtime.assemble.assemble` builds one from the settings; the Flask extension,
``GuardMiddleware`` and the CLI each take one. :meth:`Runtime.start` starts its background
workers; :meth:`Runtime.close` stops them and releases what they used, in one order:

1. the workers, in :attr:`Runtime.workers` order: first those that bring work in (the change
   listener, the policy refresher, the Twilio sync schedule, the alert sender), then the writers,
   each with its final step (the audit backlog written, the traffic report counts written), then
   the SQLite counters' chores;
2. the resources, the last opened first: the change listener's and publisher's connections, the
   counters, the registry files, and the database engine last, once nothing writes to it.
"""

from __future__ import annotations

import atexit
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from ..engine import Guard
from ..loggers import get_logger, show_full_numbers
from ..registry import RegistryDirectory
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
from .alerts import AlertSink
from .refresh import PolicyRefresher
from .settings import Settings
from .worker import BackgroundWorker, WorkerHealth

if TYPE_CHECKING:  # the redis extra, imported only when CALLGUARD_REDIS_URL is set
    from ..store.change_notices_redis import ChangeListener, RedisChangePublisher

log = get_logger("callguard")


@dataclass
class Runtime:
    settings: Settings
    config: Mapping[str, Any]  # what it was assembled with: the settings' source, and the credentials they name
    guard: Guard
    engine: Engine
    audit_sql: SqlAuditLog  # reads, and /healthz's ping
    audit: BatchingAuditLog | SqlAuditLog  # where decisions are recorded
    optouts: OptOutStore
    consents: ConsentStore
    complaints: ComplaintStore
    overrides: OverrideStore
    refresher: PolicyRefresher
    registries: RegistryDirectory
    alerts: AlertSink
    twilio_sync: TwilioSync
    sync_scheduler: SyncScheduler
    counters: CounterBackend | None = None  # None: a what-if where no server has counted yet
    traffic: TrafficMonitor | None = None
    change_publisher: RedisChangePublisher | None = None
    change_listener: ChangeListener | None = None
    last_good: Mapping[str, LastGood[Any]] = field(default_factory=dict)
    workers: tuple[BackgroundWorker, ...] = ()  # in the order they stop
    resources: ExitStack = field(default_factory=ExitStack)  # released after the workers stop, the last opened first
    started: bool = False
    closed: bool = False

    def start(self) -> None:
        """Start the background workers (nothing if started already or closed), after applying
        ``CALLGUARD_LOG_LEVEL`` and ``CALLGUARD_LOG_NUMBERS`` and warning of registry files older
        than the law allows."""
        if self.started or self.closed:
            return
        self.started = True
        if self.settings.log_level:
            log.setLevel(self.settings.log_level)
        show_full_numbers(self.settings.log_numbers == "full")
        now = self.settings.clock()
        for stale in self.registries.stale():
            log.warning(
                "registry %s is %.0f days old: the FTC and the CRTC allow 31; download a fresh copy", stale.name, stale.age_days(now)
            )
        atexit.register(self.close)  # an embedding app that never closes still gets its audit backlog written
        for worker in self.workers:
            worker.start()

    def close(self) -> None:
        """Stop the workers and release the resources, in the order the module docstring gives. Idempotent."""
        if self.closed:
            return
        self.closed = True
        atexit.unregister(self.close)
        for worker in self.workers:
            worker.stop()
        self.resources.close()

    def health(self) -> dict[str, WorkerHealth]:
        """Each background worker's health, by name."""
        return {worker.name: worker.health() for worker in self.workers}

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None) -> None:
        self.close()
