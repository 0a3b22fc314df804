"""PostgreSQL connections that cannot hang a call (psycopg 3, under SQLAlchemy's pool).

A read on a pooled connection waits for the server with no end of its own: a server that
accepts and never answers (a black hole) would hold the call until Twilio gave up. Here every
wait is bounded (:class:`BoundedConnection`):

- **Each wait for the server** (a ping, a statement, a commit) ends within what the answer has
  left (:mod:`callguard.deadline`), and outside an answer within the statement timeout and a
  second. Given up, the connection is closed (its state mid-query is unknown) and the call fails
  as a lost connection does: SQLAlchemy drops it from the pool.
- **A new connection** has psycopg's ``connect_timeout`` (whole seconds, at least 2), no more
  than the answer has left; with less than 2 s left no connection is attempted on the answer's
  path (the background work, which has no answer to keep, reconnects).
- **On the server**, ``statement_timeout`` ends a statement that runs too long, and TCP
  keepalives with ``tcp_user_timeout`` notice a peer that vanished (an idle pooled connection,
  or data never acknowledged), unless the URL sets them itself.
- **The breaker** (one per engine, :class:`~callguard.breaker.CircuitBreaker`) is opened by a
  wait given up and by a connection attempt that failed; a connection lost mid-query is not
  counted (after a restart every pooled connection fails once, and the reconnection says
  whether the server is there). :func:`~callguard.store.database.connection` and
  :func:`~callguard.store.database.transaction` ask it before taking a connection.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Mapping
from typing import Any, TypeVar

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine

from .. import deadline
from .database_bounds import DatabaseBounds

RV = TypeVar("RV")

MIN_CONNECT_TIMEOUT = 2  # psycopg (as libpq) reads a connect_timeout under 2 s as 2 s
_INTERVAL = 0.05  # how often a wait wakes to look at its deadline
_GRACE = 1.0  # outside an answer, the client waits this much past the server's statement_timeout

# Unless the URL says otherwise: an idle connection whose peer vanished is found within
# 10 + 3 × 5 s, and data unacknowledged for 10 s ends the connection.
TCP_DEFAULTS = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3, "tcp_user_timeout": 10_000}


class _GaveUp(Exception):
    pass


def _until(gen: Generator[Any, Any, RV], until: float) -> Generator[Any, Any, RV]:
    """``gen``, given up (:class:`_GaveUp`) once the monotonic clock passes ``until``; psycopg's
    wait resumes it at least every interval, so it is looked at that often."""
    try:
        request = next(gen)
        while True:
            ready = yield request
            if time.monotonic() >= until:
                gen.close()
                raise _GaveUp
            request = gen.send(ready)
    except StopIteration as stop:
        result: RV = stop.value
        return result


class BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection whose every wait for the server is bounded (see the module's docstring)."""

    bounds: DatabaseBounds

    def wait(self, gen: Generator[Any, Any, RV], interval: float = _INTERVAL, timeout: float | None = None) -> RV:
        bounds = self.bounds
        limit = deadline.bound(bounds.wait_limit(_GRACE))
        if limit <= 0:
            if self.pgconn.transaction_status != TransactionStatus.IDLE:
                self.pgconn.finish()  # a transaction left open with no time to end it: closing ends it
            raise psycopg.OperationalError("no time left in this answer to wait for the database")
        interval = min(interval, _INTERVAL)
        bounded = _until(gen, time.monotonic() + limit) if limit != float("inf") else gen
        try:
            # psycopg before 3.3.? has no timeout of its own; none of its callers here passes one
            result = super().wait(bounded, interval) if timeout is None else super().wait(bounded, interval, timeout)
        except _GaveUp:
            self.pgconn.finish()  # mid-query: what the server has done is unknown, the connection is of no further use
            bounds.breaker.failed()
            raise psycopg.OperationalError(f"no answer from the database within {limit:.2g} s") from None
        bounds.breaker.succeeded()
        return result


def _connector(bounds: DatabaseBounds) -> Any:
    """SQLAlchemy's ``do_connect`` hook: a :class:`BoundedConnection`, within the answer's time."""

    def connect(_dialect: Any, _record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]) -> BoundedConnection:
        if bounds.breaker.refusing():  # this call's connection has just timed out: one bound is its share
            raise psycopg.OperationalError(f"database not answering; asked again in {bounds.breaker.retry_in():.1f} s")
        limit = deadline.bound(bounds.connect_timeout)
        if limit < MIN_CONNECT_TIMEOUT:
            bounds.breaker.abandon()  # a trial that could not be made: let the next caller make it
            raise psycopg.OperationalError(f"no new database connection with {limit:.2g} s left in this answer")
        params = {**cparams, "connect_timeout": int(limit)}
        try:
            conn = BoundedConnection.connect(*cargs, **params)
        except psycopg.OperationalError:
            bounds.breaker.failed()
            raise
        conn.bounds = bounds
        bounds.breaker.succeeded()
        return conn

    return connect


def connect_params(query: Mapping[str, Any], bounds: DatabaseBounds) -> dict[str, Any]:
    """The connection parameters callguard adds to the URL's: TCP keepalives and user timeout,
    and the statement timeout (appended to the URL's ``options``); what the URL sets stays."""
    params: dict[str, Any] = {key: value for key, value in TCP_DEFAULTS.items() if key not in query}
    if bounds.timeout is not None:
        statement_timeout = f"-c statement_timeout={int(bounds.timeout * 1000)}"
        options = query.get("options")
        params["options"] = f"{options} {statement_timeout}" if options else statement_timeout
    return params


def bounded_engine(url: URL, *, echo: bool, bounds: DatabaseBounds) -> Engine:
    """An engine on ``url`` (``postgresql+psycopg``) whose connections are :class:`BoundedConnection`."""
    engine = create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        pool_timeout=5,
        connect_args=connect_params(url.query, bounds),
    )
    event.listen(engine, "do_connect", _connector(bounds))
    return engine
