"""Traffic triggers at the dial and after the call, on both counter backends (callguard.traffic.monitor)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from callguard import FakeClock
from callguard.store.counters import open_counters
from callguard.traffic import TrafficEvent, TrafficMonitor, parse_traffic
from callguard.traffic.counters import CounterBackend

ACCOUNT = "AC" + "a" * 32
CALLER = "+14155550100"


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    if request.param == "sqlite":
        return {"redis_url": None, "sqlite_path": str(tmp_path / "counters.db"), "prefix": ""}
    return {"redis_url": request.getfixturevalue("redis_server"), "sqlite_path": "", "prefix": request.getfixturevalue("redis_prefix")}


@pytest.fixture
def open_backend(spec: dict[str, Any]) -> Iterator[Callable[[], CounterBackend]]:
    opened: list[CounterBackend] = []

    def make() -> CounterBackend:
        backend = open_counters(spec["redis_url"], spec["sqlite_path"], prefix=spec["prefix"], timeout=1.0)
        opened.append(backend)
        return backend

    yield make
    for backend in opened:
        backend.close()


class Harness:
    def __init__(self, backend: CounterBackend, clock: FakeClock) -> None:
        self.events: list[TrafficEvent] = []
        self.monitor = TrafficMonitor(backend, on_event=self.events.append)
        self.clock = clock
        self.calls = 0

    def dial(
        self, policy: Any, to: str = "+14155550123", region: str = "US", caller: str | None = CALLER, campaign: str | None = None
    ) -> list[str]:
        self.calls += 1
        result = self.monitor.before_dial(
            account_sid=ACCOUNT, family=ACCOUNT, e164=to, region=region, caller_id=caller, call_sid=f"CA{self.calls:032d}",
            campaign_id=campaign, policy=policy, now=self.clock(),
        )
        return [r.code for r in result.refusals]

    def what_if(self, policy: Any, to: str = "+14155550123", region: str = "US") -> list[str]:
        """A pre-dial check of a call that is not placed: it must record nothing."""
        result = self.monitor.before_dial(
            account_sid=ACCOUNT, family=ACCOUNT, e164=to, region=region, caller_id=CALLER, call_sid=None,
            campaign_id=None, policy=policy, now=self.clock(), record=False,
        )
        assert result.taken is None
        return [r.code for r in result.refusals]

    def ended(self, policy: Any, *, answered: bool, duration: float = 0.0, call: int | None = None) -> None:
        self.monitor.after_call(
            account_sid=ACCOUNT, caller_id=CALLER, call_sid=f"CA{(call or self.calls):032d}", answered=answered, duration=duration,
            policy=policy, now=self.clock(),
        )


def traffic(table: dict[str, Any]) -> Any:
    return parse_traffic(table, source="test", key="traffic", top_level=True)


@pytest.fixture
def harness(open_backend: Callable[[], CounterBackend], clock: FakeClock) -> Harness:
    return Harness(open_backend(), clock)


def test_cps_fires_at_the_limit_and_not_before(harness: Harness, clock: FakeClock) -> None:
    policy = traffic({"cps": 3})
    assert [harness.dial(policy) for _ in range(3)] == [[], [], []]
    assert harness.dial(policy) == ["traffic.cps"]
    clock.advance(1.0)
    assert harness.dial(policy) == []


def test_concurrent_calls_until_they_end(harness: Harness) -> None:
    policy = traffic({"concurrent": 2})
    assert harness.dial(policy) == [] and harness.dial(policy) == []
    assert harness.dial(policy) == ["traffic.concurrent"]
    harness.ended(policy, answered=True, duration=30, call=1)
    assert harness.dial(policy) == []


def test_unanswered_throttles_exactly_at_the_threshold_and_cools_down(harness: Harness, clock: FakeClock) -> None:
    policy = traffic({"unanswered": {"last": 10, "window": "1d", "min_attempts": 5, "min_answer_ratio": 0.5, "cooldown": "1h"}})
    # 2 answered, then unanswered ones: after the 4th attempt the ratio is 2/4 = 50%, not below.
    for answered in (True, True, False, False):
        assert harness.dial(policy) == []
        harness.ended(policy, answered=answered, duration=60 if answered else 0)
    assert harness.events == []
    # The 5th attempt is unanswered: 2/5 = 40% < 50% with 5 attempts: the throttle starts now.
    assert harness.dial(policy) == []
    harness.ended(policy, answered=False)
    assert [e.kind for e in harness.events] == ["throttle_started"] and "2 of its last 5 calls" in harness.events[0].sentence
    assert harness.dial(policy) == ["traffic.unanswered"]
    clock.advance(3599)
    assert harness.dial(policy) == ["traffic.unanswered"]
    clock.advance(1)
    # Cooled down: the caller ID starts afresh, judged on calls made from now on.
    assert harness.dial(policy) == []
    harness.ended(policy, answered=False)
    assert len(harness.events) == 1
    for _ in range(4):
        harness.dial(policy)
        harness.ended(policy, answered=False)
    assert [e.kind for e in harness.events] == ["throttle_started"] * 2 and "0 of its last 5 calls" in harness.events[1].sentence


def test_short_calls_throttle_and_cool_down(harness: Harness, clock: FakeClock) -> None:
    policy = traffic({"short_calls": {"last": 5, "min_answered": 3, "min_average_seconds": 20, "cooldown": "30m"}})
    for duration in (30, 10):
        harness.dial(policy)
        harness.ended(policy, answered=True, duration=duration)
    assert harness.dial(policy) == []
    harness.ended(policy, answered=True, duration=15)  # (30 + 10 + 15) / 3 = 18.3 s < 20 s
    assert harness.dial(policy) == ["traffic.short_calls"]
    clock.advance(1800)
    assert harness.dial(policy) == []


def test_velocity_blocks_the_prefix_records_why_and_can_suspend(harness: Harness, clock: FakeClock) -> None:
    policy = traffic({"velocity": [{"prefix": "+371", "max_calls": 20, "window": "10m", "block_for": "1d", "suspend_account": True}]})
    for _ in range(20):
        assert harness.dial(policy, to="+37120000000", region="LV") == []
        clock.advance(1)
    assert harness.events == []
    assert harness.dial(policy, to="+37120000001", region="LV") == ["traffic.velocity"]
    assert [e.kind for e in harness.events] == ["velocity_block", "suspend_requested"]
    assert "more than 20 calls to +371" in harness.events[0].sentence
    clock.advance(3600)  # the burst window has passed, but the block holds for a day
    assert harness.dial(policy, to="+37120000002", region="LV") == ["traffic.velocity"]
    assert harness.dial(policy, to="+14155550123") == []  # other destinations are fine
    clock.advance(86_400)
    # The block is over and counting starts afresh: twenty more, and the next trips it again.
    assert [harness.dial(policy, to="+37120000002", region="LV") for _ in range(20)] == [[]] * 20
    assert harness.dial(policy, to="+37120000002", region="LV") == ["traffic.velocity"]


def test_two_velocity_rules_on_one_target(harness: Harness, clock: FakeClock) -> None:
    policy = traffic({"velocity": [
        {"country": "LV", "max_calls": 3, "window": "1m", "block_for": "10m"},  # a burst
        {"country": "LV", "max_calls": 5, "window": "1h", "block_for": "1d"},  # a sustained run
    ]})
    for _ in range(3):
        assert harness.dial(policy, to="+37120000000", region="LV") == []
    assert harness.dial(policy, to="+37120000000", region="LV") == ["traffic.velocity"]
    assert harness.events[0].until == clock() + 600
    clock.advance(601)  # both windows restarted when the block began: five more within the hour ...
    for _ in range(5):
        assert harness.dial(policy, to="+37120000000", region="LV") == []
        clock.advance(30)
    assert harness.dial(policy, to="+37120000000", region="LV") == ["traffic.velocity"]  # ... and the sixth trips the day-long one
    assert harness.events[-1].until == clock() + 86_400


def test_two_rules_tripping_at_once_block_for_the_longer(harness: Harness, clock: FakeClock) -> None:
    policy = traffic({"velocity": [
        {"prefix": "+371", "max_calls": 2, "window": "1m", "block_for": "10m"},
        {"prefix": "+371", "max_calls": 2, "window": "1h", "block_for": "1d"},
    ]})
    assert [harness.dial(policy, to="+37120000000", region="LV") for _ in range(3)] == [[], [], ["traffic.velocity"]]
    assert [(e.kind, e.until) for e in harness.events] == [("velocity_block", clock() + 86_400)]


def test_calls_to_one_callee_per_day(harness: Harness, clock: FakeClock) -> None:
    policy = traffic({"max_calls_per_callee_per_day": 3})
    assert [harness.dial(policy, campaign="solar") for _ in range(3)] == [[], [], []]
    assert harness.dial(policy, campaign="solar") == ["traffic.callee_daily"]
    assert harness.dial(policy, campaign="other") == []  # per campaign
    clock.advance(86_400)
    assert harness.dial(policy, campaign="solar") == []


def test_refused_calls_do_not_use_up_the_quota(harness: Harness) -> None:
    policy = traffic({"cps": 2, "max_calls_per_callee_per_day": 1})
    assert harness.dial(policy, to="+14155550123") == []
    assert harness.dial(policy, to="+14155550123") == ["traffic.callee_daily"]  # its cps slot is given back
    assert harness.dial(policy, to="+14155550124") == []
    assert harness.dial(policy, to="+14155550125") == ["traffic.cps"]


def test_throttles_and_blocks_survive_a_restart(open_backend: Callable[[], CounterBackend], clock: FakeClock) -> None:
    policy = traffic({
        "cps": 2, "unanswered": {"min_attempts": 2, "min_answer_ratio": 0.5},
        "velocity": [{"country": "CU", "max_calls": 1, "window": "1h", "block_for": "1d"}],
    })
    first = Harness(open_backend(), clock)
    first.dial(policy, to="+5351234567", region="CU")
    assert first.dial(policy, to="+5351234568", region="CU") == ["traffic.velocity"]
    for _ in range(2):
        first.dial(policy)
        first.ended(policy, answered=False)
    first.monitor.close()
    first.monitor.counters.close()
    clock.advance(5)
    second = Harness(open_backend(), clock)
    second.calls = 100
    assert second.dial(policy, to="+5351234569", region="CU", caller="+14155550101") == ["traffic.velocity"]
    assert second.dial(policy) == ["traffic.unanswered"]


def test_the_report(harness: Harness, clock: FakeClock) -> None:
    policy = traffic(
        {
            "unanswered": {"min_attempts": 2, "min_answer_ratio": 0.6},
            "velocity": [{"country": "CU", "max_calls": 1, "window": "1h", "block_for": "1d"}],
        }
    )
    harness.dial(policy)
    harness.ended(policy, answered=True, duration=40)
    harness.dial(policy)
    harness.ended(policy, answered=False)
    # The first caller ID is throttled by now (1 of 2 answered); Cuba is dialled from another.
    assert harness.dial(policy, to="+5351234567", region="CU", caller="+14155550199") == []
    assert harness.dial(policy, to="+5351234568", region="CU", caller="+14155550199") == ["traffic.velocity"]
    report = harness.monitor.report(ACCOUNT, policy, clock())
    caller, other = report.caller_ids
    assert other.caller_id == "+14155550199" and other.attempts == 0
    assert (caller.caller_id, caller.attempts, caller.answered, caller.average_seconds) == (CALLER, 2, 1, 40.0)
    assert caller.throttled_until == clock() + 3600 and caller.answer_ratio == 0.5
    countries = {c.region: c for c in report.countries}
    assert countries["US"].attempts == 2 and countries["CU"].attempts == 2 and countries["CU"].refused == 1
    assert countries["CU"].blocked_until == clock() + 86_400
    assert report.region_calls == {"default": 4}


def test_the_multi_region_rule(open_backend: Callable[[], CounterBackend], clock: FakeClock) -> None:
    backend = open_backend()
    events: list[TrafficEvent] = []
    us = TrafficMonitor(backend, deployment_region="us1", on_event=events.append)
    ie = TrafficMonitor(backend, deployment_region="ie1", on_event=events.append)
    policy = traffic({"home_region": "us1"})
    call = 0

    def dial(monitor: TrafficMonitor) -> None:
        nonlocal call
        call += 1
        monitor.before_dial(account_sid=ACCOUNT, family=ACCOUNT, e164="+14155550123", region="US", caller_id=CALLER,
                            call_sid=f"CA{call:032d}", campaign_id=None, policy=policy, now=clock())

    # Seven hours in which ie1 carries most of the account's calls: over the policy's six.
    for _hour in range(7):
        dial(us)
        dial(ie)
        dial(ie)
        clock.advance(3600)
    ie.tallies.flush(clock())  # what ie1's flusher writes within a second
    dial(us)
    assert [e.kind for e in events] == ["region_share"] and "7 of the last 24 hours" in events[0].sentence
    share = us.region_share(ACCOUNT, clock())
    assert share.totals == {"ie1": 14, "us1": 8}


def test_a_refused_second_target_of_one_call_keeps_the_calls_slot(harness: Harness) -> None:
    """Two targets of one call (a wrapped document) share its concurrency slot; giving back what
    the refused second one took must not free the slot the first still uses."""
    policy = traffic({"concurrent": 1})
    first = harness.monitor.before_dial(account_sid=ACCOUNT, family=ACCOUNT, e164="+14155550123", region="US", caller_id=CALLER,
                                        call_sid="CA" + "1" * 32, campaign_id=None, policy=policy, now=harness.clock())
    second = harness.monitor.before_dial(account_sid=ACCOUNT, family=ACCOUNT, e164="+14155550124", region="US", caller_id=CALLER,
                                         call_sid="CA" + "1" * 32, campaign_id=None, policy=policy, now=harness.clock())
    assert first.refusals == [] and second.refusals == []
    assert second.taken is not None and second.taken.gauges == ()  # the slot was the call's already
    harness.monitor.undo(second.taken)  # a later check refused the second target
    assert harness.dial(policy) == ["traffic.concurrent"]  # the first target still holds the account's one slot
    assert first.taken is not None
    harness.monitor.undo(first.taken)
    assert harness.dial(policy) == []


def test_a_what_if_never_trips_a_velocity_trigger(harness: Harness, clock: FakeClock) -> None:
    policy = traffic({"velocity": [{"prefix": "+371", "max_calls": 2, "window": "10m", "block_for": "1d", "suspend_account": True}]})
    assert harness.dial(policy, to="+37120000000", region="LV") == []
    assert [harness.what_if(policy, to="+37120000000", region="LV") for _ in range(5)] == [[]] * 5  # not counted
    assert harness.dial(policy, to="+37120000000", region="LV") == []
    # The window is full: a real call would trip the trigger, and the what-if says so, but trips nothing.
    assert [harness.what_if(policy, to="+37120000000", region="LV") for _ in range(3)] == [["traffic.velocity"]] * 3
    assert harness.events == []
    assert harness.monitor.report(ACCOUNT, policy, clock()).velocity_blocks == []
    clock.advance(1)
    assert harness.dial(policy, to="+37120000000", region="LV") == ["traffic.velocity"]
    assert [e.kind for e in harness.events] == ["velocity_block", "suspend_requested"]
    # Once the block is in force a what-if reports it like any call.
    assert harness.what_if(policy, to="+37120000001", region="LV") == ["traffic.velocity"]
    assert len(harness.events) == 2


def test_a_what_if_takes_no_slot_and_counts_nothing(harness: Harness, clock: FakeClock) -> None:
    policy = traffic({"cps": 10, "concurrent": 2, "max_calls_per_callee_per_day": 5})
    assert [harness.what_if(policy) for _ in range(8)] == [[]] * 8
    assert harness.dial(policy) == [] and harness.dial(policy) == []
    assert harness.what_if(policy) == ["traffic.concurrent"]  # what a real call would get now
    assert harness.dial(policy) == ["traffic.concurrent"]
    harness.ended(policy, answered=True, duration=30, call=1)
    assert harness.what_if(policy) == []
    # The report counts the three real attempts (one refused), none of the what-ifs.
    (country,) = harness.monitor.report(ACCOUNT, policy, clock()).countries
    assert (country.region, country.attempts, country.refused) == ("US", 3, 1)


def test_hold_seconds_is_how_long_an_unreported_slot_is_held(harness: Harness, clock: FakeClock) -> None:
    policy = traffic({"concurrent": 1})
    held = harness.monitor.before_dial(
        account_sid=ACCOUNT, family=ACCOUNT, e164="+14155550123", region="US", caller_id=CALLER, call_sid="cg-reserved",
        campaign_id=None, policy=policy, now=clock(), hold_seconds=60,
    )
    assert held.refusals == [] and held.taken is not None
    clock.advance(59)
    assert harness.dial(policy) == ["traffic.concurrent"]
    clock.advance(1)  # 60 s, not the policy's four hours
    assert harness.dial(policy) == []
