"""One deadline per answer (callguard.deadline): what a dependency call may wait, on a clock moved by hand."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from callguard import FakeClock, deadline


@pytest.fixture(autouse=True)
def no_answer_left_over() -> Iterator[None]:
    yield
    deadline.end_answer()


def test_outside_an_answer_a_call_has_its_own_limit() -> None:
    assert deadline.current_deadline() is None
    assert deadline.bound(30.0) == 30.0


def test_inside_an_answer_a_call_has_what_is_left_less_a_tenth_for_the_answer_itself() -> None:
    clock = FakeClock(1000.0)
    started = deadline.start_answer(3.0, clock=clock)
    assert started.at == 1003.0 and started.reserve == pytest.approx(0.3)
    assert deadline.bound(30.0) == pytest.approx(2.7)
    assert deadline.bound(1.0) == 1.0  # a shorter limit of its own stands
    clock.advance(2.0)
    assert deadline.bound(30.0) == pytest.approx(0.7)
    clock.advance(5.0)
    assert deadline.bound(30.0) == 0.0  # past it: do not start


def test_the_deadline_ends_with_its_answer() -> None:
    deadline.start_answer(1.0, clock=FakeClock(0.0))
    deadline.end_answer()
    assert deadline.current_deadline() is None and deadline.bound(5.0) == 5.0


def test_each_thread_has_its_own() -> None:
    deadline.start_answer(1.0, clock=FakeClock(0.0))
    seen: list[float] = []
    thread = threading.Thread(target=lambda: seen.append(deadline.bound(9.0)))
    thread.start()
    thread.join()
    assert seen == [9.0] and deadline.bound(9.0) == pytest.approx(0.9)
