"""Injectable time.

The engine never calls ``time.time()`` itself: it is handed a :data:`Clock` (a callable
returning seconds since the epoch), so tests of expiry and windows move time instead of
sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]

system_clock: Clock = time.time


class FakeClock:
    """A clock that only moves when told to; for tests and what-if checks."""

    def __init__(self, start: float | datetime = 1_767_225_600.0) -> None:  # 2026-01-01T00:00Z
        self._now = start.timestamp() if isinstance(start, datetime) else float(start)

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def set(self, when: float | datetime) -> None:
        self._now = when.timestamp() if isinstance(when, datetime) else float(when)


def utc_datetime(epoch_seconds: float) -> datetime:
    """The aware UTC datetime for an epoch timestamp."""
    return datetime.fromtimestamp(epoch_seconds, tz=UTC)
