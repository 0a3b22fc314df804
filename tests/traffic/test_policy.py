"""The [traffic] policy (callguard.traffic.policy)."""

from __future__ import annotations

import pytest

from callguard import ConfigError
from callguard.traffic.policy import NO_TRAFFIC_LIMITS, UnansweredRule, parse_duration, parse_traffic


@pytest.mark.parametrize("value, seconds", [("90s", 90), ("10m", 600), ("1h", 3600), ("7d", 604800), ("1.5h", 5400), (45, 45), (0.5, 0.5)])
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value, source="p", key="k") == seconds


@pytest.mark.parametrize("value", ["10 minutes", "-1h", "", 0, -5, True, "10"])
def test_bad_durations(value: object) -> None:
    with pytest.raises(ConfigError, match="p: k: expected a duration"):
        parse_duration(value, source="p", key="k")


def test_levels_change_only_what_they_name() -> None:
    top = parse_traffic({"cps": 5, "unanswered": {"min_answer_ratio": 0.3}}, source="p", key="traffic", top_level=True)
    assert top.cps == 5 and top.unanswered == UnansweredRule(min_answer_ratio=0.3)
    account = parse_traffic({"concurrent": 10, "unanswered": {"last": 50}}, source="p", key="a", inherited=top)
    assert account.cps == 5 and account.concurrent == 10
    assert account.unanswered == UnansweredRule(last=50, min_answer_ratio=0.3)
    off = parse_traffic({"cps": False, "unanswered": False}, source="p", key="c", inherited=account)
    assert off.cps is None and off.unanswered is None and off.concurrent == 10
    assert not NO_TRAFFIC_LIMITS.enabled and off.enabled


def test_velocity_rules() -> None:
    policy = parse_traffic(
        {
            "velocity": [
                {"prefix": "+371", "max_calls": 20, "window": "10m", "block_for": "1d"},
                {"country": "CU", "max_calls": 5, "window": 60, "block_for": "1h", "suspend_account": True},
            ]
        },
        source="p", key="traffic", top_level=True,
    )
    first, second = policy.velocity
    assert first.matches("+37120000000", "LV") and not first.matches("+37020000000", "LT")
    assert second.matches("+5312345678", "CU") and second.suspend_account


@pytest.mark.parametrize(
    "table, key, fragment",
    [
        ({"cpss": 5}, "traffic.cpss", "did you mean 'cps'"),
        ({"cps": 0}, "traffic.cps", "at least 1"),
        ({"cps": "5"}, "traffic.cps", "at least 1"),
        ({"unanswered": {"min_answer_ratio": 1.5}}, "traffic.unanswered.min_answer_ratio", "at most 1.0"),
        ({"unanswered": {"lasts": 5}}, "traffic.unanswered.lasts", "did you mean 'last'"),
        ({"unanswered": 5}, "traffic.unanswered", "expected a table"),
        ({"velocity": {"prefix": "+371"}}, "traffic.velocity", "array of tables"),
        ({"velocity": [{"max_calls": 2, "window": "1m", "block_for": "1h"}]}, "traffic.velocity[0]", "exactly one of prefix"),
        ({"velocity": [{"prefix": "371", "max_calls": 2, "window": "1m", "block_for": "1h"}]},
         "traffic.velocity[0].prefix", "E.164 prefix"),
        ({"velocity": [{"country": "UK", "max_calls": 2, "window": "1m", "block_for": "1h"}]},
         "traffic.velocity[0].country", "not a region"),
        ({"velocity": [{"prefix": "+371", "window": "1m", "block_for": "1h"}]}, "traffic.velocity[0].max_calls", "missing"),
        ({"velocity": [{"prefix": "+371", "max_calls": 2, "window": "32d", "block_for": "1h"}]},
         "traffic.velocity[0].window", "at most 31 days"),
        (
            {
                "velocity": [
                    {"prefix": "+371", "max_calls": 2, "window": "1m", "block_for": "1h"},
                    {"prefix": "+371", "max_calls": 9, "window": 60, "block_for": "1d"},
                ]
            },
            "traffic.velocity[1].window",
            "traffic.velocity[0] already counts calls to +371 over 60 s",
        ),
        ({"home_region": "US East"}, "traffic.home_region", "deployment region"),
        ({"alerts": {"webhook": "x"}}, "traffic.alerts", "unknown key"),
    ],
)
def test_errors_name_the_key(table: dict[str, object], key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_traffic(table, source="policy.toml", key="traffic")
    assert caught.value.key == key and fragment in caught.value.problem
