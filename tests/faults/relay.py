"""A fault-injecting TCP relay on loopback, between callguard and a real server (PostgreSQL,
Redis, an upstream app).

Every connection made to the relay is relayed to the target, and the relay's :class:`Mode`
decides what happens to it, for connections already open as for new ones:

- ``PASS``: bytes go through as they come.
- ``REFUSE``: the port is closed (a new connection is refused) and every open one is reset.
- ``BLACKHOLE``: connections are accepted and nothing is answered; what is sent is dropped.
  Leaving it resets what it held (its streams are past repair: bytes went missing).
- ``LATENCY``: each chunk of the server's answer is held ``latency`` seconds.
- ``RESET``: the server's answer is cut halfway through its first chunk, then the connection
  is reset.

A restart is ``REFUSE`` for a while, then ``PASS``.
"""

from __future__ import annotations

import enum
import socket
import struct
import threading
import time
from collections.abc import Callable


class Mode(enum.Enum):
    PASS = "pass"
    REFUSE = "refuse"
    BLACKHOLE = "black-hole"
    LATENCY = "latency"
    RESET = "reset"


_POLL = 0.05  # how often blocked threads look at the mode and at whether they should stop


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset rather than an orderly end (SO_LINGER 0), waking any thread in recv()."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class _Link:
    """One relayed connection: the client's socket and, unless it is held, the server's."""

    def __init__(self, client: socket.socket, server: socket.socket | None) -> None:
        self.client = client
        self.server = server
        self.held = server is None  # black-holed: everything dropped until the link is reset
        self.closed = threading.Event()

    def reset(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        _reset(self.client)
        if self.server is not None:
            _reset(self.server)


class FaultRelay:
    """Relays 127.0.0.1:``port`` to 127.0.0.1:``target_port``; :meth:`set` changes the fault."""

    def __init__(self, target_port: int, *, latency: float = 0.5) -> None:
        self.target_port = target_port
        self.latency = latency
        self.mode = Mode.PASS
        self._lock = threading.Lock()
        self._links: set[_Link] = set()
        self._stopped = threading.Event()
        self._listener: socket.socket | None = None
        self.port = self._listen(0)

    def url(self, url: str) -> str:
        """``url`` with the target's port replaced by the relay's."""
        return url.replace(f":{self.target_port}", f":{self.port}", 1)

    # -- the fault ----------------------------------------------------------------------------

    def set(self, mode: Mode) -> None:
        with self._lock:
            before, self.mode = self.mode, mode
            links = set(self._links)
        if before is Mode.BLACKHOLE and mode is not Mode.BLACKHOLE:
            for link in links:
                if link.held:
                    self._drop(link)
        if mode is Mode.REFUSE:
            listener, self._listener = self._listener, None
            if listener is not None:
                listener.close()
            for link in links:
                self._drop(link)
        elif mode is Mode.BLACKHOLE:
            for link in links:
                link.held = True
        if before is Mode.REFUSE and mode is not Mode.REFUSE:
            self._listen(self.port)

    def close(self) -> None:
        self._stopped.set()
        self.set(Mode.REFUSE)

    # -- relaying -----------------------------------------------------------------------------

    def _listen(self, port: int) -> int:
        listener = socket.create_server(("127.0.0.1", port))
        listener.settimeout(_POLL)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="fault-relay-accept", daemon=True).start()
        return int(listener.getsockname()[1])

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed: the port is refused now
                return
            server: socket.socket | None = None
            if self.mode is not Mode.BLACKHOLE:
                try:
                    server = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
                except OSError:
                    _reset(client)
                    continue
            link = _Link(client, server)
            with self._lock:
                self._links.add(link)
            for source, sink, answer in ((client, server, False), (server, client, True)):
                if source is not None:
                    threading.Thread(target=self._pump, args=(link, source, sink, answer), name="fault-relay-pump", daemon=True).start()
            if server is None:
                threading.Thread(target=self._pump, args=(link, client, None, False), name="fault-relay-pump", daemon=True).start()

    def _pump(self, link: _Link, source: socket.socket, sink: socket.socket | None, answer: bool) -> None:
        """Carry ``source``'s bytes to ``sink``; ``answer``: this is the server's side, the one faults shape."""
        try:
            source.settimeout(_POLL)
        except OSError:  # the link was closed (a fault, the relay stopping) before this thread began
            self._drop(link)
            return
        while not link.closed.is_set():
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            if link.held or sink is None:
                continue  # black-holed: dropped
            mode = self.mode
            try:
                if answer and mode is Mode.LATENCY:
                    if link.closed.wait(self.latency):
                        break
                if answer and mode is Mode.RESET:
                    sink.sendall(data[: len(data) // 2])
                    break
                sink.sendall(data)
            except OSError:
                break
        self._drop(link)

    def _drop(self, link: _Link) -> None:
        with self._lock:
            self._links.discard(link)
        link.reset()


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> float | None:
    """Seconds until ``predicate()`` held (None if it never did within ``timeout``)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(interval)
    return None
