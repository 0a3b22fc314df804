"""PostgreSQL connections that cannot hang a call (callguard.store.postgres), against the real
server behind a fault-injecting relay (tests/faults/relay.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from callguard import FakeClock, StoreUnavailable, deadline
from callguard.breaker import CLOSED, OPEN, CircuitBreaker
from callguard.store import create_database_engine, ensure_schema
from callguard.store.database import connection, database_bounds
from callguard.store.database_bounds import DatabaseBounds
from callguard.store.optouts import OptOutStore
from callguard.store.postgres import TCP_DEFAULTS, connect_params

from ..faults.relay import FaultRelay, Mode

pytestmark = pytest.mark.postgres

FAMILY = "AC" + "b" * 32


@pytest.fixture(autouse=True)
def no_answer_left_over() -> Iterator[None]:
    yield
    deadline.end_answer()


@pytest.fixture
def breakers() -> FakeClock:
    return FakeClock(0)


@pytest.fixture
def relay(postgres_url: str, fault_relay: Callable[[int], FaultRelay]) -> FaultRelay:
    return fault_relay(5432)


@pytest.fixture
def engine(postgres_url: str, relay: FaultRelay, breakers: FakeClock) -> Iterator[Engine]:
    engine = create_database_engine(relay.url(postgres_url), timeout=0.5, breaker=CircuitBreaker("database", clock=breakers))
    ensure_schema(engine)
    yield engine
    engine.dispose()


def timed(call: Callable[[], Any]) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the test looks at what it was
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


def test_a_read_on_a_pooled_connection_to_a_black_hole_ends_at_the_statement_bound(engine: Engine, relay: FaultRelay) -> None:
    store = OptOutStore(engine)
    assert store.find_all("+14155550100", FAMILY) == ()  # a connection in the pool
    relay.set(Mode.BLACKHOLE)
    error, elapsed = timed(lambda: store.find_all("+14155550100", FAMILY))
    # The pool's ping waited the server's 0.5 s statement timeout and a second for it to say so;
    # then no reconnection is tried (the breaker has opened): one bound in all.
    assert isinstance(error, StoreUnavailable) and "not answering" in str(error)
    assert 1.4 < elapsed < 2.0
    assert database_bounds(engine).breaker.status().state == OPEN
    error, elapsed = timed(lambda: store.find_all("+14155550100", FAMILY))  # not asked again: no wait at all
    assert isinstance(error, StoreUnavailable) and "not answering" in str(error) and elapsed < 0.05


def test_within_an_answer_a_read_ends_with_what_the_answer_has_left(engine: Engine, relay: FaultRelay) -> None:
    store = OptOutStore(engine)
    store.find_all("+14155550100", FAMILY)
    relay.set(Mode.BLACKHOLE)
    deadline.start_answer(0.5)
    error, elapsed = timed(lambda: store.find_all("+14155550100", FAMILY))
    assert isinstance(error, StoreUnavailable) and elapsed < 0.5


def test_a_database_back_after_the_cool_off_is_asked_again_and_answers(engine: Engine, relay: FaultRelay, breakers: FakeClock) -> None:
    store = OptOutStore(engine)
    store.find_all("+14155550100", FAMILY)
    relay.set(Mode.BLACKHOLE)
    with pytest.raises(StoreUnavailable):
        store.find_all("+14155550100", FAMILY)
    relay.set(Mode.PASS)
    with pytest.raises(StoreUnavailable, match="not answering"):
        store.find_all("+14155550100", FAMILY)
    breakers.advance(1)
    assert store.find_all("+14155550100", FAMILY) == ()  # the trial: a new connection, the pool's old ones dropped
    assert database_bounds(engine).breaker.status().state == CLOSED


def test_no_connection_is_attempted_with_less_than_two_seconds_left_in_an_answer(postgres_url: str, breakers: FakeClock) -> None:
    engine = create_database_engine(postgres_url, breaker=CircuitBreaker("database", clock=breakers))
    try:
        deadline.start_answer(1.0)
        error, elapsed = timed(lambda: OptOutStore(engine).find_all("+14155550100", FAMILY))
        assert isinstance(error, StoreUnavailable) and "no new database connection" in str(error) and elapsed < 0.05
        assert database_bounds(engine).breaker.status().state == CLOSED  # nothing was tried: nothing failed
        deadline.end_answer()
        with connection(engine, "test") as conn:  # background work has the time
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_the_server_ends_a_statement_past_the_statement_timeout_and_the_connection_lives_on(engine: Engine) -> None:
    with connection(engine, "test") as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "500ms"
        assert conn.execute(text("SHOW search_path")).scalar_one().startswith("cg_test_")  # the URL's own options stay
        error, elapsed = timed(lambda: conn.execute(text("SELECT pg_sleep(3)")))
    assert isinstance(error, OperationalError) and "statement timeout" in str(error) and elapsed < 1.0
    assert database_bounds(engine).breaker.status().state == CLOSED  # the server answered: it is there
    with connection(engine, "test") as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1


def test_tcp_keepalives_and_user_timeout_notice_a_vanished_peer(engine: Engine) -> None:
    with connection(engine, "test") as conn:
        parameters = conn.connection.dbapi_connection.info.get_parameters()
    assert {key: parameters[key] for key in TCP_DEFAULTS} == {key: str(value) for key, value in TCP_DEFAULTS.items()}


def test_what_the_url_sets_stays() -> None:
    bounds = DatabaseBounds(CircuitBreaker("database"), timeout=2.0)
    params = connect_params({"keepalives_idle": "60", "options": "-csearch_path=x"}, bounds)
    assert "keepalives_idle" not in params and params["keepalives_count"] == 3
    assert params["options"] == "-csearch_path=x -c statement_timeout=2000"
    assert "options" not in connect_params({}, DatabaseBounds(CircuitBreaker("database"), timeout=None))
