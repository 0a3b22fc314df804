"""Open the traffic counters a deployment uses: Redis for many hosts, else a SQLite file.

The interface both implement (:class:`~callguard.traffic.counters.CounterBackend` and its
operations) is the core's, in :mod:`callguard.traffic.counters`.
"""

from __future__ import annotations

from ..extras import extra_needed
from ..traffic.counters import CounterBackend


def open_counters(redis_url: str | None, sqlite_path: str, *, prefix: str = "callguard:", timeout: float = 0.05) -> CounterBackend:
    """Redis when ``redis_url`` is set (many hosts), else a SQLite file (one host)."""
    if redis_url:
        with extra_needed("redis", setting="CALLGUARD_REDIS_URL"):
            from .counters_redis import RedisCounters

        return RedisCounters(redis_url, prefix=prefix, timeout=timeout)
    from .counters_sqlite import SqliteCounters

    return SqliteCounters(sqlite_path)
