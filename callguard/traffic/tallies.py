"""The report counts of every call, gathered in memory and written to the counters in one batch.

Reports and the multi-region rule need per-country, per-region and per-caller-ID counts of every
call, but not within the call's own counter batch: keeping them out of it keeps a decision to
one short round trip. :meth:`TallyBuffer.flush` writes what gathered; the runtime runs it on a
background worker once a second (and reports run it before they read), so a crash loses at most
a second of report counts, never a limit.
"""

from __future__ import annotations

import threading

from ..clock import Clock
from ..loggers import get_logger
from . import keys
from .counters import CounterBackend, Index, Op, Tally

log = get_logger("callguard.traffic")

REPORT_TTL = 8 * keys.DAY  # the daily counts and indexes reports read: a week, and the day being written
REGION_TTL = 2 * keys.DAY  # the hourly region counts the multi-region rule reads: the last 24 hours


class TallyBuffer:
    def __init__(self, counters: CounterBackend, clock: Clock) -> None:
        self.counters = counters
        self.clock = clock
        self.forget()

    def forget(self) -> None:
        """Drop what gathered, unwritten: in a forked child, a copy of the counts is the parent's to write."""
        self._lock = threading.Lock()
        self._tallies: dict[tuple[str, int, float], int] = {}
        self._indexes: dict[tuple[str, str], float] = {}

    def count_call(self, account_sid: str, country: str, caller_id: str | None, deployment_region: str, now: float) -> None:
        """A call placed: its destination country and deployment region, and its caller ID."""
        day, hour = keys.day_bucket(now), keys.hour_bucket(now)
        with self._lock:
            tallies, indexes = self._tallies, self._indexes
            for key in (
                (keys.country_calls(account_sid, country), day, REPORT_TTL),
                (keys.region_calls(account_sid, deployment_region), hour, REGION_TTL),
            ):
                tallies[key] = tallies.get(key, 0) + 1
            indexes[(keys.countries(account_sid), country)] = REPORT_TTL
            indexes[(keys.regions(account_sid), deployment_region)] = REGION_TTL
            if caller_id:
                indexes[(keys.caller_ids(account_sid), caller_id)] = REPORT_TTL

    def count_refused(self, account_sid: str, country: str, now: float) -> None:
        """A call to ``country`` refused by a traffic limit."""
        self._add(keys.country_refused(account_sid, country), keys.day_bucket(now), REPORT_TTL)

    def count_outcome(self, account_sid: str, caller_id: str, answered: bool, duration: float, now: float) -> None:
        """A call from ``caller_id`` ended: an attempt, and whether and how long it was answered."""
        day = keys.day_bucket(now)
        with self._lock:
            self._indexes[(keys.caller_ids(account_sid), caller_id)] = REPORT_TTL
        self._add(keys.caller_id_tally(account_sid, caller_id, "attempts"), day, REPORT_TTL)
        if answered:
            self._add(keys.caller_id_tally(account_sid, caller_id, "answered"), day, REPORT_TTL)
            self._add(keys.caller_id_tally(account_sid, caller_id, "seconds"), day, REPORT_TTL, round(duration))

    def _add(self, key: str, bucket: int, ttl: float, amount: int = 1) -> None:
        with self._lock:
            self._tallies[(key, bucket, ttl)] = self._tallies.get((key, bucket, ttl), 0) + amount

    def flush(self, now: float | None = None) -> None:
        """Write what gathered, as of ``now`` (default: the clock's). Best effort: a failure is logged and the counts dropped."""
        with self._lock:
            tallies, self._tallies = self._tallies, {}
            indexes, self._indexes = self._indexes, {}
        ops: list[Op] = [Tally(key, bucket, amount, ttl) for (key, bucket, ttl), amount in tallies.items()]
        ops += [Index(key, member, ttl) for (key, member), ttl in indexes.items()]
        if not ops:
            return
        try:
            self.counters.run(ops, self.clock() if now is None else now)
        except Exception:  # report counts are best effort; limits never depend on them
            log.exception("traffic report counts could not be written; %d dropped", len(ops))
