"""Open the traffic counters a deployment uses: Redis for many hosts, else a SQLite file.

The interface both implement (:class:`~callguard.traffic.counters.CounterBackend` and its
operations) is the core's, in :mod:`callguard.traffic.counters`.
"""

from __future__ import annotations

from ..breaker import CircuitBreaker
from ..extras import extra_needed
from ..traffic.counters import CounterBackend


def open_counters(
    redis_url: str | None, sqlite_path: str, *, prefix: str = "callguard:", timeout: float = 0.05, breaker: CircuitBreaker | None = None
) -> CounterBackend:
    """Redis when ``redis_url`` is set (many hosts), else a SQLite file (one host). ``breaker``
    keeps calls away from a Redis that stopped answering (see :mod:`.counters_redis`)."""
    if redis_url:
        with extra_needed("redis", setting="CALLGUARD_REDIS_URL"):
            from .counters_redis import RedisCounters

        return RedisCounters(redis_url, prefix=prefix, timeout=timeout, breaker=breaker)
    from .counters_sqlite import SqliteCounters

    return SqliteCounters(sqlite_path)
