"""Which calling window applies to a number (callguard.hours.rules, callguard.hours.zones)."""

from __future__ import annotations

from datetime import date

import pytest

from callguard import ConfigError
from callguard.hours import callee_zones, parse_calling_hours, shipped_calling_hours, us_area_code_states
from callguard.numbers import classify_number


@pytest.mark.parametrize(
    "e164, where, monday, sunday",
    [
        ("+14155550123", "the default", "08:00-21:00", "08:00-21:00"),  # California: TCPA
        ("+13055550123", "US state FL", "08:00-20:00", "08:00-20:00"),
        ("+12055550123", "US state AL", "08:00-20:00", "closed"),
        ("+15045550123", "US state LA", "08:00-20:00", "closed"),
        ("+12145550123", "US state TX", "09:00-21:00", "12:00-21:00"),
        ("+16135550123", "country CA", "09:00-21:30", "10:00-18:00"),
        ("+442079460000", "the default", "08:00-21:00", "08:00-21:00"),
    ],
)
def test_shipped_rules(e164: str, where: str, monday: str, sunday: str) -> None:
    rule, label = shipped_calling_hours().rule_for(classify_number(e164))
    assert label == where
    assert rule.describe(date(2026, 6, 1)) == monday and rule.describe(date(2026, 6, 7)) == sunday
    assert rule.source


def test_every_shipped_rule_names_its_source() -> None:
    hours = shipped_calling_hours()
    assert hours.default.source and all(r.source for r in (*hours.countries.values(), *hours.us_states.values()))


def test_area_code_table() -> None:
    states = us_area_code_states()
    assert states["305"] == "FL" and states["212"] == "NY" and states["907"] == "AK"
    assert "876" not in states and "613" not in states  # Jamaica, Ontario


def test_policy_overrides() -> None:
    hours = parse_calling_hours(
        {
            "default": {"all": "09:00-20:00"},
            "holidays": [date(2026, 12, 25)],
            "countries": {"GB": {"sun": "closed", "holidays": [date(2026, 12, 26)]}},
            "us_states": {"NY": {"all": "10:00-19:00"}},
        },
        source="policy.toml",
    )
    gb, _ = hours.rule_for(classify_number("+442079460000"))
    assert gb.describe(date(2026, 6, 1)) == "09:00-20:00"  # starts from the policy's default
    assert gb.describe(date(2026, 6, 7)) == "closed"
    assert gb.describe(date(2026, 12, 25)) == "closed (holiday)" and gb.describe(date(2026, 12, 26)) == "closed (holiday)"
    ny, where = hours.rule_for(classify_number("+12125550123"))
    assert where == "US state NY" and ny.describe(date(2026, 6, 1)) == "10:00-19:00"
    fl, _ = hours.rule_for(classify_number("+13055550123"))
    assert fl.describe(date(2026, 6, 1)) == "08:00-20:00"  # shipped rules stay
    assert fl.describe(date(2026, 12, 25)) == "closed (holiday)"  # global holidays apply everywhere
    bare = parse_calling_hours({"keep_shipped": False}, source="p")
    assert bare.rule_for(classify_number("+13055550123"))[1] == "the default"


@pytest.mark.parametrize(
    "table, key",
    [
        ({"defaults": {}}, "calling_hours.defaults"),
        ({"countries": {"UK": {"all": "08:00-20:00"}}}, "calling_hours.countries.UK"),
        ({"us_states": {"Florida": {"all": "08:00-20:00"}}}, "calling_hours.us_states.Florida"),
        ({"us_states": {"FL": {"all": "8-20"}}}, "calling_hours.us_states.FL.all"),
    ],
)
def test_bad_overrides_name_the_key(table: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_calling_hours(table, source="policy.toml")
    assert caught.value.key == key


@pytest.mark.parametrize(
    "e164, zones",
    [
        ("+18765550100", ["America/Jamaica"]),  # not every NANP zone
        ("+14155550123", ["America/Los_Angeles"]),
        ("+442079460000", ["Europe/London"]),
        ("+16135550123", ["America/Toronto"]),
    ],
)
def test_callee_zones(e164: str, zones: list[str]) -> None:
    assert [z.key for z in callee_zones(classify_number(e164))] == zones


def test_kaliningrad_is_in_its_own_zone() -> None:
    # phonenumbers says Europe/Bucharest, which keeps summer time; Kaliningrad does not.
    assert [z.key for z in callee_zones(classify_number("+74012123456"))] == ["Europe/Kaliningrad"]
    assert "Europe/Kaliningrad" in {z.key for z in callee_zones(classify_number("+79161234567"))}


def test_numbers_in_several_zones_keep_them_all() -> None:
    zones = {z.key for z in callee_zones(classify_number("+79161234567"))}  # a Russian mobile: country-wide
    assert {"Europe/Moscow", "Asia/Vladivostok"} <= zones
