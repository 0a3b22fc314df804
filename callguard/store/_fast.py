"""The stores' fast paths: each kept because a request-level profile shows it saves at least 1 %
of a request (the figures are in benchmarks/README.md), each held equal to the plain form by
tests/store/test_fast.py.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import redis
from redis.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError


class ThreadConnection:
    """Redis commands on a connection of the calling thread's own, outside the client's pool.

    For each command redis-py's client takes a connection from its pool and gives it back (a
    lock, a poll of the socket for unread data), and runs its retry and event hooks: on a call
    whose traffic is counted in Redis, more than the round trip to a local Redis. This writes and
    reads with the pool's own kind of connection (its settings and timeouts), one per thread,
    made again in a forked process, as a connection must not cross a fork. Replies are what the
    connection reads: redis-py's response callbacks are not applied.
    """

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._local = threading.local()

    def _connection(self) -> Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.conn, local.pid, local.answered = self._client.connection_pool.make_connection(), os.getpid(), False
        return local.conn

    def execute(self, command: Sequence[Any]) -> Any:
        """One command's reply (an error reply raises its ResponseError)."""
        (reply,) = self._round_trip([command])
        if isinstance(reply, ResponseError):
            raise reply
        return reply

    def execute_many(self, commands: Sequence[Sequence[Any]]) -> list[Any]:
        """Every command's reply in order, written at once and read at once: one round trip. An
        error reply is returned in its place (a ResponseError), as the replies after it are due."""
        return self._round_trip(commands)

    def _round_trip(self, commands: Sequence[Sequence[Any]]) -> list[Any]:
        # A connection that has answered before and is now found closed (Redis restarted, or
        # closed it while idle) says nothing of Redis now: once more on a new connection, as
        # redis-py's pool would have found it closed before using it. A timeout is not retried:
        # a Redis that does not answer must cost one bound, not two.
        answered_before = getattr(self._local, "answered", False)
        try:
            return self._write_and_read(commands)
        except (RedisConnectionError, OSError) as exc:
            if not answered_before or isinstance(exc, TimeoutError):
                raise
            return self._write_and_read(commands)

    def _write_and_read(self, commands: Sequence[Sequence[Any]]) -> list[Any]:
        conn = self._connection()
        replies: list[Any] = []
        self._local.answered = False
        try:
            conn.send_packed_command(conn.pack_commands(commands), check_health=False)
            for _ in commands:
                try:
                    replies.append(conn.read_response())
                except ResponseError as exc:
                    replies.append(exc)
        except (RedisError, OSError):
            conn.disconnect()  # a half-read connection is of no further use
            raise
        self._local.answered = True
        return replies

    def close(self) -> None:
        """Close this thread's connection (in the process that made it)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.disconnect()
        self._local = threading.local()
