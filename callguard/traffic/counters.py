"""The traffic counters' interface: one small interface, two backends (SQLite and Redis, in :mod:`callguard.store`).

Traffic checks run several counter operations for one call; they are described as a list of
operations and run as one batch, so a call costs one SQLite transaction or one Redis round
trip. Every operation is evaluated at the caller's ``now`` (epoch seconds, from its injectable
clock): backends never read the time themselves, so windows behave the same under a test's
fake clock as in production.

Operations and their results:

- ``Admit(windows, gauges, flags, member, event, record=True)``: a call's whole admission at
  once. Admitted when no flag in ``flags`` is in force, each ``(key, window, limit)`` sliding
  window holds fewer than ``limit`` events and each ``(key, ttl, limit)`` gauge fewer than
  ``limit`` members (or already holds ``member``: the same call asking again); then, and only
  then, ``event`` is recorded in every window and ``member`` joins every gauge. ->
  :class:`AdmitResult`. Nothing is written for a refused call, so refusals never use up quota.
  ``member`` is the call (its SID, released when its end is reported); ``event`` is unique to
  this admission. Gauge counts are exact whenever they reach the limit; below it they may still
  count members whose ``ttl`` has passed (those are dropped when they would make a difference).
  With ``record=False`` (a what-if) the admission is evaluated exactly the same way (the same
  counts and flags, the same clean-up of what has expired) but nothing is recorded: no event,
  no gauge member, ``joined`` all False.
- ``Unhit(key, event, at)``: remove a window event admitted at ``at`` (a call refused after it was admitted).
- ``Release(key, member)``: leave a gauge (the call ended). Gauge members also expire after
  their ``ttl`` (a call whose end was never reported).
- ``RecordOutcome(key, answered, duration, keep, ttl)``: append a call outcome, keeping the last ``keep``.
- ``OutcomeStats(key, window, last)``: -> ``(attempts, answered, answered_seconds)`` over the
  last ``last`` outcomes within ``window``.
- ``SetFlag(key, until, reason)`` / ``GetFlag(key)`` / ``ClearFlag(key)``: a flag in force until
  ``until``; GetFlag -> ``(until, reason)`` or None once expired; ClearFlag -> whether one was in force.
- ``Reset(key)``: forget every window event or outcome recorded under ``key`` (a trigger that
  fired starts its count afresh).
- ``Tally(key, bucket, amount, ttl)``: add to a counter in a fixed bucket (hour, day); -> new total.
  ``ReadTallies(key, buckets)``: -> ``{bucket: total}``.
- ``Index(key, member, ttl)`` / ``ReadIndex(key)``: a set of names seen (caller IDs, countries), for reports.

Every operation costs O(1) amortised in the number of events a window holds (SQLite keeps a
running count per key; Redis's sorted sets count in O(1)), so a trigger of 5 000 calls in 10
minutes costs what a trigger of 5 does.

A backend that cannot be reached raises :class:`~callguard.errors.StoreUnavailable`, and the
engine's fail mode decides the call.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# The longest sliding window a backend keeps events for (policy validation enforces it): a
# month, for the legal per-callee limits (France: 4 calls in 30 days).
MAX_WINDOW = 31 * 86_400.0


@dataclass(frozen=True, slots=True)
class Admit:
    windows: tuple[tuple[str, float, int], ...]  # (key, window seconds, limit)
    gauges: tuple[tuple[str, float, int], ...]  # (key, member ttl seconds, limit)
    flags: tuple[str, ...]
    member: str
    event: str
    record: bool = True  # False: a what-if, evaluated exactly as an admission but writing nothing


@dataclass(frozen=True, slots=True)
class AdmitResult:
    admitted: bool
    window_counts: tuple[int, ...]  # events already in each window (this call not included)
    gauge_counts: tuple[int, ...]  # members already active in each gauge
    flags: tuple[tuple[float, str] | None, ...]  # (until, reason) of each flag in force
    joined: tuple[bool, ...] = ()  # per gauge: the member joined now (False: refused, or it was in already)


@dataclass(frozen=True, slots=True)
class Unhit:
    key: str
    event: str
    at: float  # when the event was admitted (the ``now`` of its Admit)


@dataclass(frozen=True, slots=True)
class Release:
    key: str
    member: str


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    key: str
    answered: bool
    duration: float
    keep: int
    ttl: float


@dataclass(frozen=True, slots=True)
class OutcomeStats:
    key: str
    window: float
    last: int


@dataclass(frozen=True, slots=True)
class SetFlag:
    key: str
    until: float
    reason: str


@dataclass(frozen=True, slots=True)
class GetFlag:
    key: str


@dataclass(frozen=True, slots=True)
class ClearFlag:
    key: str


@dataclass(frozen=True, slots=True)
class Reset:
    key: str


@dataclass(frozen=True, slots=True)
class Tally:
    key: str
    bucket: int
    amount: int
    ttl: float


@dataclass(frozen=True, slots=True)
class ReadTallies:
    key: str
    buckets: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Index:
    key: str
    member: str
    ttl: float


@dataclass(frozen=True, slots=True)
class ReadIndex:
    key: str


Op = (
    Admit | Unhit | Release | RecordOutcome | OutcomeStats | SetFlag | GetFlag | ClearFlag | Reset | Tally | ReadTallies | Index | ReadIndex
)


class CounterBackend(abc.ABC):
    name: str

    @abc.abstractmethod
    def run(self, ops: Sequence[Op], now: float) -> list[Any]:
        """Run ``ops`` as one batch at ``now``; their results, in order."""

    def admit(self, op: Admit, now: float) -> AdmitResult:
        """``run([op], now)[0]``: backends give the call path's one operation a shorter way."""
        result: AdmitResult = self.run([op], now)[0]
        return result

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise StoreUnavailable unless the backend answers."""

    def close(self) -> None:
        return None
