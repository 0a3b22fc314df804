"""The last good answers of records-database lookups, served while the database is unreachable.

The opt-out and consent lookups of a telemarketing call still ask the database every time: an
opt-out must stop the very next call, through any worker or host. Each answer is also kept here
(a cachetools ``TTLCache``, bounded in entries, each entry living ``CALLGUARD_DATABASE_STALE_LIMIT``
seconds from its last successful read). When the database cannot be reached, the kept answer is
served instead; without one (never looked up, or older than the limit) the lookup fails and the
call follows the policy's fail mode. After a failure the database is not asked again for
``retry_interval`` seconds, so an outage that hangs connections does not hang every call.

An opt-out or consent change published through Redis makes every worker forget what it keeps
for that number (:mod:`callguard.store.change_notices`), so an outage starting just after a
change does not bring back the answer from before it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from cachetools import TTLCache

from ..clock import Clock
from ..errors import StoreUnavailable
from ..loggers import get_logger
from ..records import Consent, OptOut, choose_consent, choose_optout
from .consents import ConsentStore
from .optouts import OptOutStore

log = get_logger("callguard.store")

V = TypeVar("V")
_MISSING = object()


@dataclass(frozen=True)
class LastGoodStats:
    entries: int
    maxsize: int
    ttl: float
    stale_answers: int  # answers served from here while the database was unreachable
    unavailable: bool


class LastGood(Generic[V]):
    """The last answer read for each key, kept ``ttl`` seconds; served only when reading fails."""

    def __init__(self, what: str, *, maxsize: int, ttl: float, clock: Clock, retry_interval: float = 1.0) -> None:
        self.what = what
        self.clock = clock
        self.retry_interval = retry_interval
        self._cache: TTLCache[Hashable, V] = TTLCache(maxsize=maxsize, ttl=ttl, timer=clock)
        self._lock = threading.Lock()  # the change-notice thread forgets entries
        self._retry_at: float | None = None  # while set, the backend is down: do not ask before then
        self._last_error: StoreUnavailable | None = None
        self._stale_answers = 0

    def read(self, key: Hashable, fetch: Callable[[], V]) -> V:
        """``fetch()``, remembered under ``key``; while it fails, the remembered answer, if any."""
        now = self.clock()
        if self._retry_at is None or now >= self._retry_at:
            try:
                value = fetch()
            except StoreUnavailable as exc:
                if self._retry_at is None:
                    log.warning("%s: the database is unreachable; serving the last good answers for up to %.0f s: %s",
                                self.what, self._cache.ttl, exc)
                self._retry_at, self._last_error = now + self.retry_interval, exc
            else:
                if self._retry_at is not None:
                    log.info("%s: the database answers again", self.what)
                    self._retry_at = None
                with self._lock:
                    self._cache[key] = value
                return value
        with self._lock:
            kept = self._cache.get(key, _MISSING)
        if kept is _MISSING:
            assert self._last_error is not None
            raise self._last_error
        self._stale_answers += 1
        return kept  # type: ignore[return-value]

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._cache.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def stats(self) -> LastGoodStats:
        with self._lock:
            entries = len(self._cache)
        return LastGoodStats(entries, int(self._cache.maxsize), float(self._cache.ttl), self._stale_answers, self._retry_at is not None)


class LastGoodOptOuts:
    """The opt-out lookup of the telemarketing checks, with outages served from :class:`LastGood`."""

    def __init__(self, store: OptOutStore, kept: LastGood[tuple[OptOut, ...]]) -> None:
        self.store = store
        self.kept = kept

    def find(self, number: str, account_sid: str, campaign: str | None) -> OptOut | None:
        return choose_optout(self.find_all(number, account_sid), campaign)

    def find_all(self, number: str, account_sid: str) -> tuple[OptOut, ...]:
        return self.kept.read((number, account_sid), lambda: self.store.find_all(number, account_sid))


class LastGoodConsents:
    """The consent lookup of the national-registry check, with outages served from :class:`LastGood`."""

    def __init__(self, store: ConsentStore, kept: LastGood[tuple[Consent, ...]]) -> None:
        self.store = store
        self.kept = kept

    def find_valid(self, number: str, account_sid: str, campaign: str | None, now: float) -> Consent | None:
        found = self.kept.read((number, account_sid), lambda: self.store.find_unrevoked(number, account_sid))
        return choose_consent(found, campaign, now)
