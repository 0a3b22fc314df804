"""The circuit breaker every dependency has (callguard.breaker): on a clock that moves only when told."""

from __future__ import annotations

import pytest

from callguard import FakeClock
from callguard.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(100.0)


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker("database", cool_off=2.0, clock=clock)


def test_calls_go_through_while_the_dependency_answers(breaker: CircuitBreaker) -> None:
    for _ in range(3):
        assert breaker.allow()
        breaker.succeeded()
    assert breaker.status().state == CLOSED and breaker.retry_in() == 0


def test_one_failure_keeps_every_call_away_for_the_cool_off(breaker: CircuitBreaker, clock: FakeClock) -> None:
    breaker.failed()
    clock.advance(1.5)
    assert not breaker.allow() and not breaker.allow()
    status = breaker.status()
    assert (status.state, status.failures, status.retry_in) == (OPEN, 1, 0.5)


def test_after_the_cool_off_one_trial_goes_while_the_others_wait(breaker: CircuitBreaker, clock: FakeClock) -> None:
    breaker.failed()
    clock.advance(2)
    assert breaker.allow()  # the trial
    assert not breaker.allow() and breaker.status().state == HALF_OPEN
    breaker.succeeded()
    assert breaker.allow() and breaker.allow() and breaker.status().state == CLOSED


def test_a_call_under_way_sees_it_refusing_without_taking_the_trial(breaker: CircuitBreaker, clock: FakeClock) -> None:
    assert not breaker.refusing()
    breaker.failed()
    assert breaker.refusing()
    clock.advance(2)
    assert not breaker.refusing()
    assert breaker.allow()  # the trial is still there to take
    assert not breaker.refusing()  # and its own reconnection goes ahead


def test_a_failed_trial_opens_it_for_another_cool_off(breaker: CircuitBreaker, clock: FakeClock) -> None:
    breaker.failed()
    clock.advance(2)
    assert breaker.allow()
    breaker.failed()
    clock.advance(1.9)
    assert not breaker.allow()
    clock.advance(0.1)
    assert breaker.allow()
    assert breaker.status().failures == 1  # one outage, however many trials it took


def test_a_trial_that_never_reports_is_replaced_after_a_cool_off(breaker: CircuitBreaker, clock: FakeClock) -> None:
    breaker.failed()
    clock.advance(2)
    assert breaker.allow()  # its caller dies without a word
    clock.advance(1.9)
    assert not breaker.allow()
    clock.advance(0.1)
    assert breaker.allow()


def test_a_trial_that_could_not_be_made_goes_to_the_next_caller(breaker: CircuitBreaker, clock: FakeClock) -> None:
    breaker.failed()
    clock.advance(2)
    assert breaker.allow()
    breaker.abandon()  # e.g. no time left in its answer to connect
    assert breaker.allow()
    breaker.abandon()
    breaker.succeeded()
    assert breaker.status().state == CLOSED


def test_abandoning_when_no_trial_is_out_changes_nothing(breaker: CircuitBreaker, clock: FakeClock) -> None:
    breaker.abandon()
    assert breaker.status().state == CLOSED
    breaker.failed()
    breaker.abandon()
    assert not breaker.allow()


def test_the_cool_off_must_be_positive() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker("redis", cool_off=0)
