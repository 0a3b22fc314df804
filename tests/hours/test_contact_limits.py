"""The shipped limits on how often one consumer may be called (callguard.hours.contact_limits), and
the holiday calendars the shipped calling hours name."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from callguard.hours.calendars import check_calendar_name
from callguard.hours.contact_limits import shipped_contact_limits
from callguard.numbers.classify import classify_number


@pytest.mark.parametrize(
    "e164, where, max_calls, days, after_refusal_days",
    [
        ("+33612345678", "country FR", 4, 30, 60),
        ("+33142685300", "country FR", 4, 30, 60),
        ("+13055550123", "US state FL", 3, 1, None),
        ("+14105550123", "US state MD", 3, 1, None),
        ("+14055550123", "US state OK", 3, 1, None),
    ],
)
def test_shipped_limits_by_country_and_state(e164: str, where: str, max_calls: int, days: int, after_refusal_days: int | None) -> None:
    limit = shipped_contact_limits().for_number(classify_number(e164))
    assert limit is not None and limit.where == where and limit.source.startswith(("France", "Florida", "Maryland", "Oklahoma"))
    assert limit.frequency is not None and (limit.frequency.max_calls, limit.frequency.window) == (max_calls, days * 86_400)
    assert limit.after_refusal == (None if after_refusal_days is None else after_refusal_days * 86_400)


@pytest.mark.parametrize("e164", ["+12125550123", "+16135550123", "+442079460123", "+4930123456"])
def test_elsewhere_no_shipped_limit(e164: str) -> None:
    assert shipped_contact_limits().for_number(classify_number(e164)) is None


def test_every_calendar_the_shipped_hours_name_is_known_to_the_holidays_package() -> None:
    data = tomllib.loads(resources.files("callguard.hours").joinpath("data/calling_hours.toml").read_text("utf-8"))
    named = [(f"{scope}.{name}", c) for scope in ("countries", "us_states") for name, rule in data.get(scope, {}).items()
             for c in rule.get("holidays", []) if isinstance(c, str)]
    assert ("countries.FR", "FR") in named
    for key, calendar in named:
        check_calendar_name(calendar, source="calling_hours.toml", key=key)
