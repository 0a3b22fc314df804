"""Last good opt-out and consent answers while PostgreSQL is unreachable (callguard.store.last_good)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from callguard import FakeClock, StoreUnavailable
from callguard.breaker import CircuitBreaker
from callguard.store import create_database_engine, ensure_schema
from callguard.store.consents import ConsentStore
from callguard.store.last_good import LastGood, LastGoodConsents, LastGoodOptOuts
from callguard.store.optouts import OptOutStore

from ..conftest import TcpProxy

pytestmark = pytest.mark.postgres

FAMILY = "AC" + "a" * 32
NOW = 1_780_000_000.0
OPTED_OUT, CLEAN, NEVER_SEEN = "+14155550101", "+14155550102", "+14155550103"


@pytest.fixture
def proxy(postgres_url: str, tcp_proxy: Callable[[int], TcpProxy]) -> TcpProxy:
    return tcp_proxy(5432)


@pytest.fixture
def breakers() -> FakeClock:
    """The database breaker's monotonic clock: after a refused connection the database is not asked for a second."""
    return FakeClock(0)


@pytest.fixture
def stores(postgres_url: str, proxy: TcpProxy, breakers: FakeClock):
    engine = create_database_engine(proxy.url(postgres_url), breaker=CircuitBreaker("database", clock=breakers))
    ensure_schema(engine)
    yield OptOutStore(engine), ConsentStore(engine)
    engine.dispose()


def test_opt_outs_are_read_every_time_and_served_from_memory_only_while_the_database_is_down(
    stores, proxy: TcpProxy, breakers: FakeClock
) -> None:
    optouts, _ = stores
    clock = FakeClock(NOW)
    kept: LastGood = LastGood("opt-out lookups", maxsize=100, ttl=300, clock=clock)
    lookup = LastGoodOptOuts(optouts, kept)
    optouts.add(OPTED_OUT, FAMILY, now=NOW, source="admin")
    assert lookup.find(OPTED_OUT, FAMILY, "spring") is not None
    assert lookup.find(CLEAN, FAMILY, "spring") is None
    optouts.add(CLEAN, FAMILY, now=NOW, source="admin")
    assert lookup.find(CLEAN, FAMILY, "spring") is not None  # the database, not memory, answers while it can

    proxy.cut()
    clock.advance(299)
    assert lookup.find(OPTED_OUT, FAMILY, "spring") is not None
    assert lookup.find(CLEAN, FAMILY, None) is not None  # the last good answer, filtered for this campaign
    with pytest.raises(StoreUnavailable):
        lookup.find(NEVER_SEEN, FAMILY, "spring")  # nothing to serve: the fail mode decides
    assert kept.stats().stale_answers == 2 and kept.stats().unavailable
    kept.forget((CLEAN, FAMILY))  # what a change notice does
    with pytest.raises(StoreUnavailable):
        lookup.find(CLEAN, FAMILY, "spring")
    clock.advance(2)  # 301 s after the last good read
    with pytest.raises(StoreUnavailable):
        lookup.find(OPTED_OUT, FAMILY, "spring")

    proxy.restore()
    clock.advance(1)  # past the retry interval
    breakers.advance(1)  # and the breaker's cool-off
    assert lookup.find(OPTED_OUT, FAMILY, "spring") is not None
    assert not kept.stats().unavailable


def test_after_a_failure_the_database_is_not_asked_again_within_the_retry_interval(stores, proxy: TcpProxy, breakers: FakeClock) -> None:
    optouts, _ = stores
    clock = FakeClock(NOW)
    kept: LastGood = LastGood("opt-out lookups", maxsize=100, ttl=300, clock=clock, retry_interval=1.0)
    lookup = LastGoodOptOuts(optouts, kept)
    assert lookup.find(CLEAN, FAMILY, None) is None
    proxy.cut()
    with pytest.raises(StoreUnavailable):
        lookup.find(NEVER_SEEN, FAMILY, None)
    proxy.restore()
    breakers.advance(1)  # past the breaker's cool-off
    optouts.add(CLEAN, FAMILY, now=NOW, source="admin")  # the store itself reaches the database again …
    assert lookup.find(CLEAN, FAMILY, None) is None  # … but the lookup waits out the interval on what it kept
    clock.advance(1)
    assert lookup.find(CLEAN, FAMILY, None) is not None


def test_consents_are_served_the_same_way_and_expire_by_the_clock(stores, proxy: TcpProxy) -> None:
    _, consents = stores
    clock = FakeClock(NOW)
    lookup = LastGoodConsents(consents, LastGood("consent lookups", maxsize=100, ttl=300, clock=clock))
    consents.add(CLEAN, FAMILY, kind="prior_express_written", obtained_at=NOW - 100, expires_at=NOW + 100, now=NOW)
    assert lookup.find_valid(CLEAN, FAMILY, "spring", NOW) is not None
    proxy.cut()
    assert lookup.find_valid(CLEAN, FAMILY, "spring", NOW + 50) is not None
    assert lookup.find_valid(CLEAN, FAMILY, "spring", NOW + 150) is None  # the consent itself expired


def test_the_bound_on_entries_holds() -> None:
    clock = FakeClock(NOW)
    kept: LastGood = LastGood("opt-out lookups", maxsize=3, ttl=300, clock=clock)
    for index in range(10):
        kept.read(index, lambda: ())
    assert kept.stats().entries == 3 and kept.stats().maxsize == 3
