"""Weekly calling windows (callguard.hours.windows)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from callguard import ConfigError
from callguard.hours.calendars import ClosedDays
from callguard.hours.windows import DayWindow, describe_day, parse_holidays, parse_weekly, parse_window


def test_most_specific_key_wins() -> None:
    weekly = parse_weekly({"all": "08:00-21:00", "weekends": "10:00-18:00", "sun": "closed"}, source="t", key="k")
    assert [describe_day(d) for d in weekly.days] == ["08:00-21:00"] * 5 + ["10:00-18:00", "closed"]


def test_end_is_exclusive() -> None:
    weekly = parse_weekly({"all": "08:00-21:00"}, source="t", key="k")
    monday = date(2026, 6, 1)
    assert weekly.allows(datetime(2026, 6, 1, 8, 0))
    assert weekly.allows(datetime(2026, 6, 1, 20, 59))
    assert not weekly.allows(datetime(2026, 6, 1, 21, 0))
    assert not weekly.allows(datetime(2026, 6, 1, 7, 59))
    assert weekly.describe(monday) == "08:00-21:00"


def test_holidays_close_the_day() -> None:
    weekly = parse_weekly({"all": "08:00-21:00"}, source="t", key="k").with_holidays(ClosedDays(frozenset({date(2026, 12, 25)})))
    assert not weekly.allows(datetime(2026, 12, 25, 12, 0))
    assert weekly.describe(date(2026, 12, 25)) == "closed (holiday)"


def test_intersection_narrows() -> None:
    legal = parse_weekly({"all": "08:00-21:00"}, source="t", key="k")
    campaign = parse_weekly({"all": "10:00-22:00", "sat": "closed"}, source="t", key="k")
    both = legal.intersect(campaign)
    assert describe_day(both.days[0]) == "10:00-21:00" and both.days[5] == ()
    assert DayWindow(8 * 60, 9 * 60).intersect(DayWindow(9 * 60, 10 * 60)) is None


@pytest.mark.parametrize(
    "value",
    ["8:00-21:00", "08:00-25:00", "21:00-08:00", "08:00-08:00", "08:60-09:00", 800, "open", "10:00-13:00,", "10:00-13:00;14:00-20:00",
     [], ["10:00-13:00", 14], "10:00-13:00,12:00-20:00"],
)
def test_bad_windows(value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_window(value, source="policy.toml", key="calling_hours.default.all")
    assert str(caught.value).startswith("policy.toml: calling_hours.default.all: ")


def test_up_to_midnight_is_allowed() -> None:
    assert parse_window("00:00-24:00", source="t", key="k") == (DayWindow(0, 1440),)


def test_unknown_keys_and_holiday_values() -> None:
    with pytest.raises(ConfigError, match="k.monday"):
        parse_weekly({"monday": "08:00-09:00"}, source="t", key="k")
    with pytest.raises(ConfigError, match=r"k\[0\]"):
        parse_holidays(["2026-12-25"], source="t", key="k")
    assert parse_holidays([date(2026, 12, 25)], source="t", key="k") == ClosedDays(frozenset({date(2026, 12, 25)}))


@pytest.mark.parametrize("value", ["10:00-13:00,14:00-20:00", "14:00-20:00, 10:00-13:00", ["10:00-13:00", "14:00-20:00"]])
def test_a_day_may_hold_several_windows(value: object) -> None:
    weekly = parse_weekly({"weekdays": value, "weekends": "closed"}, source="t", key="k")
    tuesday = date(2026, 6, 2)
    assert weekly.window_on(tuesday) == (DayWindow(600, 780), DayWindow(840, 1200))
    assert weekly.describe(tuesday) == "10:00-13:00, 14:00-20:00"
    allowed = [m for m in ("09:59", "10:00", "12:59", "13:00", "13:30", "13:59", "14:00", "19:59", "20:00") if weekly.allows(
        datetime.combine(tuesday, datetime.strptime(m, "%H:%M").time())
    )]
    assert allowed == ["10:00", "12:59", "14:00", "19:59"]


def test_overlapping_windows_name_both() -> None:
    with pytest.raises(ConfigError, match=r"policy.toml: k.mon: the windows 10:00-13:00 and 12:00-20:00 overlap"):
        parse_weekly({"mon": "12:00-20:00,10:00-13:00"}, source="policy.toml", key="k")


def test_intersection_keeps_every_window_that_overlaps() -> None:
    legal = parse_weekly({"weekdays": "10:00-13:00,14:00-20:00", "weekends": "closed"}, source="t", key="k")
    campaign = parse_weekly({"all": "12:00-15:00,19:00-22:00", "fri": "09:00-10:00,13:00-14:00"}, source="t", key="k")
    both = legal.intersect(campaign)
    assert [describe_day(d) for d in both.days] == ["12:00-13:00, 14:00-15:00, 19:00-20:00"] * 4 + ["closed"] * 3
    assert both.intersect(legal) == both
