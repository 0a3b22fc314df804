"""Public-holiday calendars named in rules, from the holidays package (callguard.hours.calendars)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import holidays
import pytest

from callguard import ConfigError, load_policy
from callguard.hours.calendars import ClosedDays, HolidayCalendar, holiday_calendar, parse_closed_days
from callguard.hours.rules import parse_calling_hours

from ..conftest import BASE_POLICY
from ..without_extras import cli_without_extras, run_without_extras


def test_a_calendar_closes_its_public_holidays() -> None:
    france = HolidayCalendar("FR")
    assert [day for day in (date(2026, 7, 14), date(2026, 5, 1), date(2026, 7, 15), date(2027, 12, 25)) if france.closed_on(day)] == [
        date(2026, 7, 14), date(2026, 5, 1), date(2027, 12, 25)
    ]
    florida = HolidayCalendar("US-FL")
    assert florida.closed_on(date(2026, 11, 27)) and not HolidayCalendar("US-NY").closed_on(date(2026, 11, 27))


def test_each_year_is_computed_once_then_looked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    computed: list[int] = []
    real = holidays.country_holidays

    def counting(country: str, **kwargs: object) -> holidays.HolidayBase:
        computed.append(kwargs["years"])  # type: ignore[arg-type]
        return real(country, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(holidays, "country_holidays", counting)
    calendar = HolidayCalendar("CA-QC")
    for _ in range(1000):
        assert calendar.closed_on(date(2026, 6, 24))
        assert not calendar.closed_on(date(2026, 6, 23))
    assert computed == [2026]
    calendar.closed_on(date(2027, 6, 24))
    assert computed == [2026, 2027]


def test_the_same_name_is_the_same_calendar() -> None:
    assert holiday_calendar("FR") is holiday_calendar("FR")
    closed = parse_closed_days([date(2026, 12, 24), "US", "US"], source="t", key="k") | parse_closed_days(["US", "FR"], source="t", key="k")
    assert closed == ClosedDays(frozenset({date(2026, 12, 24)}), (holiday_calendar("US"), holiday_calendar("FR")))
    assert closed.why(date(2026, 12, 24)) == "holiday" and closed.why(date(2026, 7, 14)) == "public holiday in FR"
    assert closed.why(date(2026, 7, 15)) is None


@pytest.mark.parametrize(
    "value, key, problem",
    [
        (["ZZ"], "calling_hours.holidays[0]", "'ZZ' is not a holiday calendar"),
        (["US-ZZ"], "calling_hours.holidays[0]", "the holidays package knows no subdivision 'ZZ' of US"),
        ([datetime(2026, 12, 25, tzinfo=UTC)], "calling_hours.holidays[0]", "expected a date such as 2026-12-25"),
        ([date(2026, 12, 25), "fr"], "calling_hours.holidays[1]", "'fr' is not a holiday calendar"),
        ("FR", "calling_hours.holidays", "expected an array"),
    ],
)
def test_bad_calendars_name_the_key(value: object, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_calling_hours({"holidays": value}, source="policy.toml")
    assert caught.value.key == key and problem in caught.value.problem
    assert str(caught.value).startswith(f"policy.toml: {key}: ")


def test_calendars_in_country_state_and_campaign_rules(write_policy: Callable[..., Path]) -> None:
    text = BASE_POLICY + """
[calling_hours.countries.GB]
holidays = ["GB-SCT", 2026-12-24]

[calling_hours.us_states.FL]
all = "08:00-20:00"
holidays = ["US-FL"]

[campaigns.spring]
purpose = "telemarketing"
organization = "Acme"
disclosure = "Acme."
calling_hours = { all = "09:00-20:00", holidays = ["CA-QC"] }
"""
    policy = load_policy(write_policy(text))
    assert policy.calling_hours.countries["GB"].describe(date(2026, 11, 30)) == "closed (public holiday in GB-SCT)"  # St Andrew's Day
    assert policy.calling_hours.us_states["FL"].describe(date(2026, 11, 27)) == "closed (public holiday in US-FL)"
    campaign_hours = policy.campaigns["spring"].calling_hours
    assert campaign_hours is not None and campaign_hours.describe(date(2026, 6, 24)) == "closed (public holiday in CA-QC)"
    with pytest.raises(ConfigError, match=r"campaigns\.spring\.calling_hours\.holidays\[0\]: 'CA-XX'"):
        load_policy(write_policy(text.replace('"CA-QC"', '"CA-XX"')))


POLICY_WITH_A_CALENDAR = BASE_POLICY + '\n[calling_hours]\nholidays = [2026-12-24, "US-FL"]\n'


def test_without_the_extra_a_policy_naming_a_calendar_is_one_line(write_policy: Callable[..., Path]) -> None:
    path = write_policy(POLICY_WITH_A_CALENDAR)
    result = run_without_extras(
        f"""
        from callguard import load_policy
        from callguard.errors import MissingExtra
        try:
            load_policy({str(path)!r})
        except MissingExtra as exc:
            print(exc.extra, exc.key)
            print(exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "holidays calling_hours.holidays[1]",
        f"{path}: calling_hours.holidays[1]: needs the holidays extra (holidays is not installed): pip install 'callguard-voice[holidays]'",
    ]
    validated = cli_without_extras("policy", "validate", str(path))
    assert validated.returncode != 0 and validated.stdout == ""
    assert validated.stderr.strip().splitlines()[-1].endswith("pip install 'callguard-voice[holidays]'")
    assert len(validated.stderr.strip().splitlines()) == 1


def test_without_the_extra_shipped_calendars_refuse_only_the_calls_they_decide(write_policy: Callable[..., Path]) -> None:
    """The shipped French rule names the "FR" calendar: a plain install still loads every policy,
    and refuses French telemarketing calls it cannot place within the law, saying why."""
    path = write_policy(BASE_POLICY.replace('JM = { low_risk = true }', 'JM = { low_risk = true }\nFR = { low_risk = true }')
                        + '\n[campaigns.spring]\npurpose = "telemarketing"\norganization = "Acme"\ndisclosure = "Acme."\n')
    result = run_without_extras(
        f"""
        from datetime import datetime, UTC
        from callguard import DialRequest, FakeClock, Guard, load_policy
        from callguard.lookups import Lookups

        class NoOptOuts:
            def find(self, number, account_sid, campaign):
                return None

            def find_all(self, number, account_sid):
                return ()

        guard = Guard(load_policy({str(path)!r}), clock=FakeClock(datetime(2026, 6, 2, 14, 0, tzinfo=UTC)),
                      lookups=Lookups(optouts=NoOptOuts()))
        for to in ("+33612345678", "+12125550123"):
            decision = guard.check(DialRequest("AC00000000000000000000000000000001", to, "+14155550100", campaign="spring"))
            print(decision.header_value(), decision.sentence)
        """
    )
    assert result.returncode == 0, result.stderr
    french, american = result.stdout.splitlines()
    assert french == (
        "reject; reasons=hours.holidays_unavailable Under country FR, holiday calendar FR needs pip install 'callguard-voice[holidays]'."
    )
    assert american.startswith("disclose; reasons=disclosure.required")
