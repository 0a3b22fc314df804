"""Change notices over the real Redis (callguard.store.change_notices), the listener on the worker the runtime gives it."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator

import pytest
import redis

from callguard.runtime.worker import BackgroundWorker
from callguard.runtime.workers import change_listener_worker
from callguard.store import create_database_engine, ensure_schema
from callguard.store.change_notices import CONSENT, OPTOUT, OVERRIDES, ChangeNotice
from callguard.store.change_notices_redis import ChangeListener, RedisChangePublisher
from callguard.store.consents import ConsentStore
from callguard.store.optouts import OptOutStore
from callguard.store.overrides import OverrideStore

from ..conftest import TcpProxy

pytestmark = pytest.mark.redis

FAMILY = "AC" + "a" * 32
NOW = 1_780_000_000.0
WAIT = 10.0  # generous: the machine is shared


class Heard:
    """What one listener received, in order, and when it was told it may have missed some."""

    def __init__(self) -> None:
        self.notices: queue.Queue[ChangeNotice] = queue.Queue()
        self.missed = threading.Event()

    def next(self) -> ChangeNotice:
        return self.notices.get(timeout=WAIT)


@pytest.fixture
def listen(redis_prefix: str) -> Iterator[Callable[..., tuple[ChangeListener, Heard]]]:
    workers: list[BackgroundWorker] = []

    def start(url: str, prefix: str = redis_prefix) -> tuple[ChangeListener, Heard]:
        heard = Heard()
        listener = ChangeListener(url, prefix=prefix, on_notice=heard.notices.put, on_missed=heard.missed.set, retry_interval=0.05)
        worker = change_listener_worker(listener)
        worker.start()
        workers.append(worker)
        return listener, heard

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def publisher(redis_server: str, redis_prefix: str) -> Iterator[RedisChangePublisher]:
    publisher = RedisChangePublisher(redis_server, prefix=redis_prefix)
    yield publisher
    publisher.close()


@pytest.fixture
def engine(sqlite_url: str):
    engine = create_database_engine(sqlite_url)
    ensure_schema(engine)
    yield engine
    engine.dispose()


def test_every_committed_change_reaches_every_listener(engine, publisher: RedisChangePublisher, listen, redis_server: str) -> None:
    workers = [listen(redis_server)[1] for _ in range(2)]
    OverrideStore(engine, publisher=publisher).set_suspended(FAMILY, True, reason="fraud", actor="ops", now=NOW)
    OptOutStore(engine, publisher=publisher).add("+14155550123", FAMILY, now=NOW)
    consents = ConsentStore(engine, publisher=publisher)
    consent_id = consents.add("+14155550124", FAMILY, kind="inquiry", obtained_at=NOW, now=NOW)
    consents.revoke(consent_id, now=NOW, reason="asked")
    OptOutStore(engine, publisher=publisher).add_many([("+14155550125", None)], FAMILY, source="import", now=NOW)
    for heard in workers:
        assert [heard.next() for _ in range(5)] == [
            ChangeNotice(OVERRIDES),
            ChangeNotice(OPTOUT, "+14155550123", FAMILY),
            ChangeNotice(CONSENT, "+14155550124", FAMILY),
            ChangeNotice(CONSENT, "+14155550124", FAMILY),
            ChangeNotice(OPTOUT, None, FAMILY),  # an import: every number of the family
        ]


def test_listeners_hear_only_their_prefix_and_only_well_formed_notices(publisher: RedisChangePublisher, listen, redis_server: str) -> None:
    _, heard = listen(redis_server)
    other = RedisChangePublisher(redis_server, prefix="cgtest:another-deployment:")
    client = redis.Redis.from_url(redis_server)
    try:
        other.publish(ChangeNotice(OVERRIDES))
        client.publish(publisher.channel, b"not a notice")
        client.publish(publisher.channel, b'{"kind": "unknown"}')
        publisher.publish(ChangeNotice(OPTOUT, "+14155550123", FAMILY))
        # One connection delivers in order: had anything before it been taken, it would come first.
        assert heard.next() == ChangeNotice(OPTOUT, "+14155550123", FAMILY)
        assert heard.notices.empty()
    finally:
        other.close()
        client.close()


def test_a_listener_that_lost_redis_catches_up_when_it_is_back(
    publisher: RedisChangePublisher, listen, redis_server: str, tcp_proxy: Callable[[int], TcpProxy]
) -> None:
    proxy = tcp_proxy(6379)
    listener, heard = listen(proxy.url(redis_server))
    assert listener.connected or heard.notices.empty()
    publisher.publish(ChangeNotice(OVERRIDES))
    assert heard.next() == ChangeNotice(OVERRIDES) and not heard.missed.is_set()

    proxy.cut()
    publisher.publish(ChangeNotice(OPTOUT, "+14155550123", FAMILY))  # lost to this listener
    proxy.restore()
    assert heard.missed.wait(WAIT), "the listener did not resubscribe"
    assert listener.connected
    publisher.publish(ChangeNotice(CONSENT, "+14155550124", FAMILY))
    assert heard.next() == ChangeNotice(CONSENT, "+14155550124", FAMILY)


def test_a_listener_started_while_redis_is_down_subscribes_when_it_comes_up(
    publisher: RedisChangePublisher, listen, redis_server: str, tcp_proxy: Callable[[int], TcpProxy]
) -> None:
    proxy = tcp_proxy(6379)
    proxy.cut()
    listener, heard = listen(proxy.url(redis_server))
    assert not listener.connected
    proxy.restore()
    assert heard.missed.wait(WAIT)
    publisher.publish(ChangeNotice(OVERRIDES))
    assert heard.next() == ChangeNotice(OVERRIDES)


def test_a_change_commits_when_redis_is_down(engine, redis_server: str, redis_prefix: str, tcp_proxy: Callable[[int], TcpProxy]) -> None:
    proxy = tcp_proxy(6379)
    proxy.cut()
    unreachable = RedisChangePublisher(proxy.url(redis_server), prefix=redis_prefix)
    store = OverrideStore(engine, publisher=unreachable)
    store.set_suspended(FAMILY, True, reason="fraud", actor="ops", now=NOW)
    assert store.version() == 1 and store.load().accounts[FAMILY].suspended
    unreachable.close()
