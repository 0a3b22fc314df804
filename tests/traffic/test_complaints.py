"""Complaint thresholds (callguard.traffic.complaints): ``[traffic.complaints]`` at each level of the
policy, the throttle and pause fired at the threshold and not before, read by the dial's admission."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from callguard import ConfigError
from callguard.checks.traffic import effective_traffic
from callguard.clock import FakeClock
from callguard.policy.loader import load_policy
from callguard.store.complaints import ComplaintStore, NewComplaint
from callguard.store.counters import open_counters
from callguard.store.optouts import OptOutStore
from callguard.traffic.complaints import ComplaintLimits, ComplaintRule
from callguard.traffic.events import TrafficEvent
from callguard.traffic.monitor import TrafficMonitor
from callguard.traffic.policy import parse_traffic

from ..conftest import BASE_POLICY, GRANDCHILD, MAIN, TENANT

DAY = 86_400.0
ACCOUNT, FAMILY = TENANT, MAIN
CALLER = "+14155550100"


def traffic(table: dict[str, Any], **kwargs: Any) -> Any:
    return parse_traffic(table, source="test", key="traffic", **kwargs)


def test_levels_change_only_what_they_name() -> None:
    top = traffic({"complaints": {"caller_id": {"max": 3, "window": "30d", "cooldown": "7d"}}}, top_level=True)
    assert top.complaints == ComplaintLimits(caller_id=ComplaintRule(3, 30 * DAY, 7 * DAY)) and top.enabled
    account = traffic({"complaints": {"caller_id": {"max": 5}, "campaign": {"max": 2, "window": "60d"}}}, inherited=top)
    assert account.complaints == ComplaintLimits(ComplaintRule(5, 30 * DAY, 7 * DAY), ComplaintRule(2, 60 * DAY))
    assert account.complaints.campaign is not None and account.complaints.campaign.lasts == 60 * DAY  # no cooldown: the window
    no_campaign = traffic({"complaints": {"campaign": False}}, inherited=account)
    assert no_campaign.complaints == ComplaintLimits(caller_id=ComplaintRule(5, 30 * DAY, 7 * DAY))
    off = traffic({"complaints": {"caller_id": False}}, inherited=no_campaign)
    assert off.complaints is None and not off.enabled
    assert traffic({"complaints": False}, inherited=account).complaints is None


@pytest.mark.parametrize(
    "table, key, fragment",
    [
        ({"complaints": 3}, "traffic.complaints", "expected a table"),
        ({"complaints": {"callerid": {}}}, "traffic.complaints.callerid", "did you mean 'caller_id'"),
        ({"complaints": {"caller_id": {"max": 3}}}, "traffic.complaints.caller_id.window", "missing"),
        ({"complaints": {"campaign": {"window": "30d"}}}, "traffic.complaints.campaign.max", "missing"),
        ({"complaints": {"caller_id": {"max": 0, "window": "30d"}}}, "traffic.complaints.caller_id.max", "whole number above 0"),
        ({"complaints": {"caller_id": {"max": 2.5, "window": "30d"}}}, "traffic.complaints.caller_id.max", "whole number above 0"),
        ({"complaints": {"caller_id": {"max": 3, "window": "400d"}}}, "traffic.complaints.caller_id.window", "at most 366 days"),
        ({"complaints": {"caller_id": {"max": 3, "window": "30d", "cooldown": "soon"}}}, "traffic.complaints.caller_id.cooldown",
         "expected a duration"),
        ({"complaints": {"campaign": {"max": 3, "window": "30d", "pause": "1d"}}}, "traffic.complaints.campaign.pause",
         "unknown key"),
    ],
)
def test_errors_name_the_key(table: dict[str, object], key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        traffic(table)
    assert caught.value.key == key and fragment in caught.value.problem


def test_accounts_inherit_and_campaigns_lay_theirs_over(write_policy: Callable[..., Path]) -> None:
    policy = load_policy(write_policy(BASE_POLICY + f"""
[traffic.complaints]
caller_id = {{ max = 3, window = "30d", cooldown = "7d" }}

[accounts.{TENANT}.traffic.complaints]
caller_id = {{ max = 2 }}

[accounts.{GRANDCHILD}.traffic]
complaints = false

[campaigns.spring]
purpose = "informational"
traffic.complaints.campaign = {{ max = 5, window = "30d" }}
"""))
    main, tenant, grandchild = (policy.account(sid) for sid in (MAIN, TENANT, GRANDCHILD))
    assert main is not None and tenant is not None and grandchild is not None
    assert main.traffic.complaints == ComplaintLimits(ComplaintRule(3, 30 * DAY, 7 * DAY))
    assert tenant.traffic.complaints == ComplaintLimits(ComplaintRule(2, 30 * DAY, 7 * DAY))
    assert grandchild.traffic.complaints is None
    spring = effective_traffic(tenant.traffic, policy.campaign("spring"), policy.source)
    assert spring.complaints == ComplaintLimits(ComplaintRule(2, 30 * DAY, 7 * DAY), ComplaintRule(5, 30 * DAY))


class Harness:
    """A monitor on SQLite counters, and the complaints in the records database."""

    def __init__(self, monitor: TrafficMonitor, store: ComplaintStore, clock: FakeClock) -> None:
        self.monitor, self.store, self.clock = monitor, store, clock
        self.events: list[TrafficEvent] = []
        monitor.on_event = self.events.append

    def complain(self, policy: Any, caller_id: str = CALLER, campaign: str | None = None, number: str = "+12125550100") -> list[str]:
        new = NewComplaint(number, caller_id, ACCOUNT, FAMILY, campaign, "carrier", self.clock())
        complaint, _ = self.store.add(new, now=self.clock(), actor="test")
        return [e.kind for e in self.monitor.after_complaint(complaint, self.store, policy, self.clock())]

    def dial(self, policy: Any, caller_id: str = CALLER, campaign: str | None = None, record: bool = True) -> list[str]:
        result = self.monitor.before_dial(
            account_sid=ACCOUNT, family=FAMILY, e164="+13125550100", region="US", caller_id=caller_id, call_sid=None,
            campaign_id=campaign, policy=policy, now=self.clock(), record=record,
        )
        return [r.code for r in result.refusals]


@pytest.fixture
def harness(engine: Any, tmp_path: Path, clock: FakeClock) -> Iterator[Harness]:
    counters = open_counters(None, str(tmp_path / "counters.db"))
    yield Harness(TrafficMonitor(counters, clock=clock), ComplaintStore(engine, OptOutStore(engine)), clock)
    counters.close()


POLICY = {"complaints": {"caller_id": {"max": 3, "window": "30d", "cooldown": "7d"}, "campaign": {"max": 2, "window": "30d"}}}


def test_the_caller_id_is_throttled_at_the_threshold_and_not_before(harness: Harness) -> None:
    policy = traffic(POLICY, top_level=True)
    for _ in range(2):
        assert harness.complain(policy) == []
        assert harness.dial(policy) == []
    assert harness.complain(policy) == ["complaints_throttle"]
    assert harness.dial(policy) == ["complaints.caller_id"]
    assert harness.dial(policy, record=False) == ["complaints.caller_id"]  # a what-if sees it too
    assert harness.dial(policy, caller_id="+14155550101") == []
    (event,) = harness.events
    assert (event.account_sid, event.subject, event.until) == (ACCOUNT, CALLER, harness.clock() + 7 * DAY)
    assert [(f.kind, f.subject) for f in harness.monitor.complaint_flags(ACCOUNT, harness.clock())] == [("caller_id", CALLER)]
    assert harness.complain(policy) == []  # in force already: the count starts afresh
    harness.clock.advance(7 * DAY)
    assert harness.dial(policy) == [] and harness.monitor.complaint_flags(ACCOUNT, harness.clock()) == []


def test_the_campaign_is_paused_for_the_family_at_the_threshold(harness: Harness) -> None:
    policy = traffic(POLICY, top_level=True)
    assert harness.complain(policy, caller_id="+16465550101", campaign="spring") == []
    assert harness.dial(policy, campaign="spring") == []
    assert harness.complain(policy, caller_id="+16465550102", campaign="autumn") == []  # another campaign's
    assert harness.dial(policy, campaign="spring") == []
    assert harness.complain(policy, caller_id="+16465550103", campaign="spring") == ["complaints_pause"]
    assert harness.dial(policy, campaign="spring") == ["complaints.campaign"]
    assert harness.dial(policy, campaign="autumn") == [] and harness.dial(policy) == []
    assert [(f.kind, f.subject) for f in harness.monitor.complaint_flags(FAMILY, harness.clock())] == [("campaign", "spring")]


def test_complaints_older_than_the_window_do_not_count(harness: Harness) -> None:
    policy = traffic(POLICY, top_level=True)
    harness.complain(policy)
    harness.clock.advance(31 * DAY)
    assert harness.complain(policy) == [] and harness.complain(policy) == []
    assert harness.complain(policy) == ["complaints_throttle"]


def test_without_thresholds_complaints_throttle_nothing(harness: Harness) -> None:
    policy = traffic({"cps": 10}, top_level=True)
    assert [harness.complain(policy) for _ in range(5)] == [[]] * 5
    assert harness.dial(policy) == []
