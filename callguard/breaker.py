"""A circuit breaker per dependency: a dependency that stopped answering costs one bound, not one per call.

A call to a dependency (the records database, Redis, an upstream app) asks :meth:`CircuitBreaker.allow`
first and reports how it went (:meth:`~CircuitBreaker.succeeded`, :meth:`~CircuitBreaker.failed`).
One failure opens the breaker: for ``cool_off`` seconds every call is refused at once, without
I/O, and the caller goes the way it goes when the dependency is down (the last good answer, or
the fail mode). After the cool-off one call is let through as a trial; while it is out every
other call is still refused. A success closes the breaker; a failure opens it again for another
cool-off. A trial that never reports (its caller died) is replaced by another after a cool-off.

Plain logic on an injectable monotonic clock: no I/O, no threads of its own, tested without
sleeping. The adapters decide what counts as a failure (a timeout, a refused connection), not
an error the dependency answered with.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"  # a trial call is out


@dataclass(frozen=True)
class BreakerStatus:
    name: str
    state: str
    failures: int  # times it opened since the process started
    retry_in: float  # seconds until a trial is let through (0 unless open)


class CircuitBreaker:
    """Whether to ask dependency ``name`` now; opened by one failure for ``cool_off`` seconds."""

    def __init__(self, name: str, *, cool_off: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        if cool_off <= 0:
            raise ValueError("cool_off must be positive")
        self.name = name
        self.cool_off = cool_off
        self.clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._until = 0.0  # open: when the trial may go; half-open: when a silent trial is given up
        self._failures = 0

    def allow(self) -> bool:
        """True if the caller may ask the dependency now (and must then report the outcome)."""
        if self._state is CLOSED:  # the fast path of every call: no lock while all is well
            return True
        with self._lock:
            if self._state is CLOSED:
                return True
            now = self.clock()
            if now < self._until:
                return False
            self._state, self._until = HALF_OPEN, now + self.cool_off
            return True

    def refusing(self) -> bool:
        """Open and in its cool-off: a call already under way should not start another wait
        (a reconnection after its connection just timed out). Takes no trial."""
        return self._state is OPEN and self.clock() < self._until

    def succeeded(self) -> None:
        if self._state is not CLOSED:
            with self._lock:
                self._state = CLOSED

    def abandon(self) -> None:
        """The trial call could not be made at all (its caller had no time for it): the next caller makes it."""
        if self._state is HALF_OPEN:
            with self._lock:
                if self._state is HALF_OPEN:
                    self._state, self._until = OPEN, self.clock()

    def failed(self) -> None:
        with self._lock:
            if self._state is CLOSED:
                self._failures += 1
            self._state, self._until = OPEN, self.clock() + self.cool_off

    def retry_in(self) -> float:
        """Seconds until a trial call is let through (0 when closed)."""
        if self._state is CLOSED:
            return 0.0
        return max(0.0, self._until - self.clock())

    def status(self) -> BreakerStatus:
        with self._lock:
            state = self._state
        return BreakerStatus(self.name, state, self._failures, self.retry_in() if state is OPEN else 0.0)
