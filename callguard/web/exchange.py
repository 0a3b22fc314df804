"""A ``requests`` session whose exchanges end by a deadline: status line, headers and body together.

``requests``' read timeout bounds each read from the socket, not the answer: an app that sends
its headers a byte at a time, each well inside the timeout, holds the caller for as long as it
likes. Here every read of an answer (headers as much as body) waits at most what is left
until the exchange's deadline, and past it fails as a read timeout does (urllib3's
``ReadTimeoutError``, ``requests.ReadTimeout`` while the headers are read).

The deadline is set around the request with :func:`exchange_deadline`; the answer's reader is
installed by the connection classes of :func:`deadline_session`'s adapters.
"""

from __future__ import annotations

import http.client
import io
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import ProxyManager

# (monotonic time the exchange must end by, the clock it is read with)
_DEADLINE: ContextVar[tuple[float, Callable[[], float]] | None] = ContextVar("callguard_exchange_deadline", default=None)


@contextmanager
def exchange_deadline(until: float, clock: Callable[[], float]) -> Iterator[None]:
    """Answers read inside the block end by ``until`` (by ``clock``), however they trickle in."""
    token = _DEADLINE.set((until, clock))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


class _DeadlineReader(io.RawIOBase):
    """The socket's reader, each read waiting at most until the deadline."""

    def __init__(self, raw: Any, sock: socket.socket, until: float, clock: Callable[[], float]) -> None:
        # The socket's own reader does the reading: while it is open the socket stays open
        # (http.client closes a connection that will not be reused as soon as the headers are read).
        self._raw = raw
        self._sock = sock
        self._until = until
        self._clock = clock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self._until - self._clock()
        if remaining <= 0:
            raise TimeoutError("timed out")  # what a socket's own timeout raises
        self._sock.settimeout(remaining)
        result: int = self._raw.readinto(buffer)
        return result

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        exchange = _DEADLINE.get()
        if exchange is not None:
            self.fp = io.BufferedReader(_DeadlineReader(self.fp.detach(), sock, *exchange))


class _HTTPConnection(HTTPConnection):
    response_class = _DeadlineResponse


class _HTTPSConnection(HTTPSConnection):
    response_class = _DeadlineResponse


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _DeadlineAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is ProxyManager:  # an HTTP(S) proxy (HTTP_PROXY …); a SOCKS one keeps its own pools
            manager.pool_classes_by_scheme = _POOLS
        return manager


def deadline_session() -> requests.Session:
    """A session whose answers are read against :func:`exchange_deadline` when one is set."""
    session = requests.Session()
    adapter = _DeadlineAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
