"""One deadline per answer: every webhook answers within ``CALLGUARD_ANSWER_DEADLINE`` seconds.

The web layer starts an answer's deadline when a webhook request arrives
(:func:`start_answer`) and ends it when the answer has gone (:func:`end_answer`). Each
dependency call on the way (a database read, an upstream app's answer) waits at most
:func:`bound` of its own limit: the limit, or what the answer has left if that is less. What is
left keeps a reserve (a tenth of the deadline) for deciding and writing the answer after the
last call gave up. Outside an answer (background work, the CLI) a call is bounded by its own
limit alone.

The deadline lives in a context variable, so the adapters read it without being handed it, and
each thread (each request) has its own. Time is monotonic, never the decisions' clock, which
tests stop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

DEFAULT_ANSWER_DEADLINE = 3.0  # seconds; Twilio gives up on a webhook after 15
TWILIO_WEBHOOK_SECONDS = 15.0


@dataclass(slots=True)  # made per webhook request: not frozen, whose fields cost several times as much to set
class Deadline:
    """An answer due at ``at`` (monotonic seconds); calls must give up ``reserve`` seconds before it."""

    at: float
    reserve: float
    clock: Callable[[], float]

    def remaining(self) -> float:
        """Seconds the dependency calls of this answer may still take (never negative)."""
        return max(0.0, self.at - self.reserve - self.clock())


_current: ContextVar[Deadline | None] = ContextVar("callguard_answer_deadline", default=None)


def start_answer(seconds: float, *, clock: Callable[[], float] = time.monotonic) -> Deadline:
    """Start the deadline of the answer this thread is working on, ``seconds`` from now."""
    deadline = Deadline(clock() + seconds, seconds / 10, clock)
    _current.set(deadline)
    return deadline


def end_answer() -> None:
    """The answer has gone: calls on this thread are bounded by their own limits again."""
    _current.set(None)


def current_deadline() -> Deadline | None:
    return _current.get()


def bound(limit: float) -> float:
    """How long a dependency call may wait now: ``limit``, or what the current answer has left if
    that is less (0: nothing is left, do not start)."""
    deadline = _current.get()
    if deadline is None:
        return limit
    return min(limit, deadline.remaining())
