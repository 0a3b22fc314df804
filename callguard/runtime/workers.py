"""What runs in the background of a callguard process: each adapter's step on a :class:`BackgroundWorker`, and how often.

The adapters expose a step and know nothing of threads; these say which step, at what pace,
with which final step and which after-fork step. :func:`~callguard.runtime.assemble.assemble`
makes the ones a deployment needs (the alert sender is the :class:`~callguard.runtime.alerts.AlertSink`'s own).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..store.audit import BatchingAuditLog
from ..store.audit.pruning import AuditPruner
from ..store.counters_sqlite import CHORES_EVERY, SqliteCounters
from ..sync.scheduler import SyncScheduler
from ..traffic.monitor import TrafficMonitor
from .refresh import PolicyRefresher
from .worker import BackgroundWorker

if TYPE_CHECKING:  # the redis extra, imported only when CALLGUARD_REDIS_URL is set
    from ..store.change_notices_redis import ChangeListener

TALLIES_EVERY = 1.0  # seconds between writes of the traffic report counts: what a crash may lose


def policy_refresh_worker(refresher: PolicyRefresher, interval: float) -> BackgroundWorker:
    """Runtime changes, the policy file and Twilio's picture, looked at every ``interval`` seconds."""
    return BackgroundWorker("policy-refresh", refresher.refresh_now, interval=interval, after_fork=refresher.after_fork)


def twilio_sync_worker(scheduler: SyncScheduler) -> BackgroundWorker:
    """A tick of the Twilio sync schedule at once and every ``scheduler.poll`` seconds (a run only when due)."""
    return BackgroundWorker("twilio-sync", scheduler.tick, interval=scheduler.poll, run_at_start=True)


def audit_writer_worker(audit: BatchingAuditLog) -> BackgroundWorker:
    """The audit queue written every ``flush_interval`` seconds, and all of it when the worker stops."""
    return BackgroundWorker("audit-writer", audit.flush, interval=audit.flush_interval, on_stop=audit.close, after_fork=audit.after_fork)


def change_listener_worker(listener: ChangeListener) -> BackgroundWorker:
    """Change notices as they arrive (each poll waits for one); while Redis is down, a retry every ``retry_interval``."""
    return BackgroundWorker(
        "change-notices", listener.poll, interval=listener.next_poll_in, run_at_start=True, after_fork=listener.after_fork
    )


def traffic_tallies_worker(monitor: TrafficMonitor) -> BackgroundWorker:
    """The traffic report counts written once a second, and what is left when the worker stops."""
    tallies = monitor.tallies
    return BackgroundWorker("traffic-tallies", tallies.flush, interval=TALLIES_EVERY, on_stop=monitor.close, after_fork=tallies.forget)


def counter_chores_worker(counters: SqliteCounters) -> BackgroundWorker:
    """The SQLite counters' checkpoints and prunes, off the calls' path."""
    return BackgroundWorker("counter-chores", counters.run_chores, interval=CHORES_EVERY)


def audit_retention_worker(pruner: AuditPruner) -> BackgroundWorker:
    """A look every ``pruner.poll`` seconds, from the start, at whether a pruning run is due (the
    lease lets one process run it); a run in progress returns after its current batch when the
    worker stops."""
    return BackgroundWorker(
        "audit-retention", pruner.tick, interval=pruner.poll, run_at_start=True, interrupt=pruner.interrupt, after_fork=pruner.after_fork
    )
