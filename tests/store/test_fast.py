"""callguard.store._fast: a thread's own Redis connection replies as redis-py's client does."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.redis

redis = pytest.importorskip("redis")

from redis.exceptions import ResponseError  # noqa: E402

from callguard.store._fast import ThreadConnection  # noqa: E402

SCRIPT = "redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2]) return {redis.call('ZCARD', KEYS[1]), ARGV[2]}"


@pytest.fixture
def clients(redis_server: str) -> Iterator[tuple[Any, Any]]:
    # The plain form: redis-py's client, without its response callbacks (the fast path applies none).
    plain = redis.Redis.from_url(redis_server)
    plain.response_callbacks.clear()
    fast = redis.Redis.from_url(redis_server)
    yield plain, fast
    plain.close()
    fast.close()


def commands(prefix: str, sha: str) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    """Commands of the kinds the Redis counters send, over a few keys of ``prefix``."""
    key = st.sampled_from("abc").map(lambda k: prefix + k)
    word = st.text(alphabet="xyz|0.", min_size=1, max_size=5)
    number = st.integers(min_value=1, max_value=9)
    seconds = st.integers(min_value=100, max_value=900)  # nothing expires while the test runs
    one = st.one_of(
        st.tuples(st.just("SET"), key, word, st.just("EX"), seconds),
        st.tuples(st.just("GET"), key),
        st.tuples(st.just("GETDEL"), key),
        st.tuples(st.just("DEL"), key),
        st.tuples(st.just("HINCRBY"), key, word, number),
        st.tuples(st.just("HMGET"), key, word, word),
        st.tuples(st.just("ZADD"), key, number, word),
        st.tuples(st.just("ZREM"), key, word),
        st.tuples(st.just("ZRANGEBYSCORE"), key, st.just("(0"), st.just("+inf")),
        st.tuples(st.just("LPUSH"), key, word),
        st.tuples(st.just("LTRIM"), key, st.just(0), number),
        st.tuples(st.just("LRANGE"), key, st.just(0), number),
        st.tuples(st.just("EXPIRE"), key, seconds),
        st.tuples(st.just("EVALSHA"), st.just(sha), st.just(1), key, number, word),
        st.tuples(st.just("EVALSHA"), st.just("0" * 40), st.just(0)),  # an error reply (NOSCRIPT)
    )
    return st.lists(one, min_size=1, max_size=8)


def _same(ours: list[Any], theirs: list[Any]) -> None:
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        if isinstance(b, ResponseError):
            assert type(a) is type(b) and str(a) == str(b)
        else:
            assert a == b


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_replies_are_the_clients_one_command_at_a_time_or_all_at_once(
    clients: tuple[Any, Any], redis_prefix: str, data: st.DataObject
) -> None:
    plain, fast = clients
    sha = plain.script_load(SCRIPT).decode()
    # The same commands on two sets of keys: one sent through the fast path, one through redis-py's client.
    batch = data.draw(commands("K", sha))
    mine = [tuple(redis_prefix + "fast:" + a[1:] if isinstance(a, str) and a.startswith("K") else a for a in c) for c in batch]
    theirs = [tuple(redis_prefix + "plain:" + a[1:] if isinstance(a, str) and a.startswith("K") else a for a in c) for c in batch]
    connection = ThreadConnection(fast)
    try:
        one_at_a_time: list[Any] = []
        for command in mine:
            try:
                one_at_a_time.append(connection.execute(command))
            except ResponseError as exc:
                one_at_a_time.append(exc)
        expected: list[Any] = []
        for command in theirs:
            try:
                expected.append(plain.execute_command(*command))
            except ResponseError as exc:
                expected.append(exc)
        _same(one_at_a_time, expected)
        # The same again, pipelined: both sides start from the state the first pass left.
        pipe = plain.pipeline(transaction=False)
        for command in theirs:
            pipe.execute_command(*command)
        _same(connection.execute_many(mine), pipe.execute(raise_on_error=False))
    finally:
        connection.close()


def test_each_thread_and_each_process_gets_a_connection_of_its_own(clients: tuple[Any, Any]) -> None:
    _, fast = clients
    connection = ThreadConnection(fast)
    mine = connection._connection()
    assert connection._connection() is mine
    theirs: list[Any] = []
    thread = threading.Thread(target=lambda: theirs.append(connection._connection()))
    thread.start()
    thread.join()
    assert theirs[0] is not mine
    assert connection.execute(("PING",)) in (b"PONG", "PONG")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a connection of its own, not the parent's socket
        try:
            ok = connection._connection() is not mine and connection.execute(("PING",)) in (b"PONG", "PONG")
        except Exception:  # noqa: BLE001
            ok = False
        os.write(write, b"1" if ok else b"0")
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1"
    assert connection.execute(("PING",)) in (b"PONG", "PONG")  # the parent's connection still in step
    connection.close()


def test_a_connection_closed_while_idle_is_made_again_once(clients: tuple[Any, Any]) -> None:
    """Redis restarted (here: the connection killed) while the thread's connection sat idle: the
    next command goes on a new connection instead of failing, as with redis-py's pool."""
    plain, fast = clients
    connection = ThreadConnection(fast)
    mine = connection.execute(("CLIENT", "ID"))
    assert plain.execute_command("CLIENT", "KILL", "ID", mine) in (1, b"1", True)
    assert connection.execute(("PING",)) in (b"PONG", "PONG")
    again = connection.execute(("CLIENT", "ID"))
    assert again != mine
    # Twice in a row it is Redis, not the connection: the error goes on.
    plain.execute_command("CLIENT", "KILL", "ID", again)
    connection._local.answered = False  # as if this connection had never answered
    with pytest.raises(redis.exceptions.ConnectionError):
        connection.execute(("PING",))
    connection.close()
