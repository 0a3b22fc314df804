"""How long a PostgreSQL engine's calls may wait, and the breaker that keeps them away from a
database that stopped answering: what :mod:`.database` asks before taking a connection and
:mod:`.postgres` bounds each wait with."""

from __future__ import annotations

from dataclasses import dataclass

from ..breaker import CircuitBreaker

DEFAULT_DATABASE_TIMEOUT = 30.0  # seconds one statement may run on the server (CALLGUARD_DATABASE_TIMEOUT)
CONNECT_TIMEOUT = 5.0  # seconds a new connection may take, outside an answer


@dataclass(frozen=True)
class DatabaseBounds:
    """How long a PostgreSQL engine's calls may wait, and its breaker.

    ``timeout`` is the server's ``statement_timeout`` (None: none), ``connect_timeout`` the
    longest a new connection may take; within an answer both are cut to what it has left."""

    breaker: CircuitBreaker
    timeout: float | None = DEFAULT_DATABASE_TIMEOUT
    connect_timeout: float = CONNECT_TIMEOUT

    def wait_limit(self, grace: float) -> float:
        """The longest one wait for the server may take outside an answer: past the server's own timeout by ``grace``."""
        return float("inf") if self.timeout is None else self.timeout + grace
