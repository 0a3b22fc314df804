"""The limits on how often one consumer may be called (callguard.hours.contact_limits): the shipped
ones, a policy's ``[contact_limits]`` laid over them, and the holiday calendars the shipped calling
hours name."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from callguard import ConfigError, load_policy
from callguard.hours import ContactLimits, parse_contact_limits, shipped_contact_limits
from callguard.hours.calendars import check_calendar_name
from callguard.numbers.classify import classify_number

from ..docs.markdown import ROOT, read_blocks

PARIS, MIAMI, BALTIMORE, TULSA, BERLIN = "+33612345678", "+13055550123", "+14105550123", "+14055550123", "+4930123456"


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


# -- a policy's [contact_limits] ---------------------------------------------------------------


def limits(text: str) -> ContactLimits:
    return parse_contact_limits(tomllib.loads(text).get("contact_limits"), source="policy.toml")


def test_no_table_keeps_the_shipped_limits() -> None:
    assert parse_contact_limits(None, source="policy.toml") is shipped_contact_limits()
    assert limits("[contact_limits]\n") == shipped_contact_limits()


def test_an_entry_replaces_the_shipped_one_for_its_country() -> None:
    parsed = limits(
        '[contact_limits.countries.FR]\nmax_calls = 2\nwithin = "7d"\nafter_refusal = "90d"\nlaw = "our counsel"\n'
    )
    france = parsed.for_number(classify_number(PARIS))
    assert france is not None and france.where == "country FR" and france.law == "our counsel"
    assert france.frequency is not None and (france.frequency.max_calls, france.frequency.window) == (2, 7 * 86_400)
    assert france.after_refusal == 90 * 86_400 and france.quiet_period() == "90 days"
    assert france.source == "policy policy.toml"  # no source given: the policy file
    assert parsed.for_number(classify_number(MIAMI)) == shipped_contact_limits().for_number(classify_number(MIAMI))


def test_an_entry_may_add_a_country_or_a_state() -> None:
    parsed = limits(
        '[contact_limits.countries.DE]\nmax_calls = 2\nwithin = "24h"\nlaw = "UWG 7"\nsource = "our counsel, 2026-11"\n'
        '[contact_limits.us_states.NY]\nafter_refusal = "12h"\nlaw = "N.Y. GBL 399-z"\n'
    )
    germany = parsed.for_number(classify_number(BERLIN))
    assert germany is not None and germany.where == "country DE" and germany.source == "our counsel, 2026-11"
    assert germany.frequency is not None and germany.frequency.within() == "24 hours" and germany.after_refusal is None
    new_york = parsed.for_number(classify_number("+12125550123"))
    assert new_york is not None and new_york.where == "US state NY" and new_york.frequency is None
    assert new_york.quiet_period() == "12 hours"
    assert parsed.for_number(classify_number(PARIS)) is not None  # the shipped ones stay


@pytest.mark.parametrize(
    "text",
    [
        "[contact_limits.us_states]\nMD = false\n",
        "[contact_limits]\nus_states.MD = false\n",
        "[contact_limits]\nus_states = { MD = false }\n",
    ],
)
def test_false_removes_a_shipped_limit(text: str) -> None:
    parsed = limits(text)
    assert "MD" not in parsed.us_states and parsed.for_number(classify_number(BALTIMORE)) is None
    assert parsed.for_number(classify_number(MIAMI)) is not None and parsed.for_number(classify_number(TULSA)) is not None


def test_keep_shipped_false_starts_from_none() -> None:
    parsed = limits(
        '[contact_limits]\nkeep_shipped = false\n[contact_limits.us_states.FL]\nmax_calls = 5\nwithin = "24h"\nlaw = "ours"\n'
    )
    assert dict(parsed.countries) == {} and list(parsed.us_states) == ["FL"]
    assert parsed.for_number(classify_number(PARIS)) is None and parsed.for_number(classify_number(TULSA)) is None


@pytest.mark.parametrize(
    "table, key, problem",
    [
        ({"keep": True}, "contact_limits.keep", "unknown key (did you mean 'keep_shipped'?)"),
        ({"keep_shipped": "no"}, "contact_limits.keep_shipped", "expected true or false"),
        ({"countries": ["DE"]}, "contact_limits.countries", "expected a table"),
        ({"countries": {"UK": {"max_calls": 1, "within": "1d", "law": "x"}}}, "contact_limits.countries.UK", "not a region"),
        ({"us_states": {"Florida": False}}, "contact_limits.us_states.Florida", "not a two-letter US state"),
        ({"us_states": {"XX": {"max_calls": 1, "within": "1d", "law": "x"}}}, "contact_limits.us_states.XX", "not a two-letter"),
        ({"us_states": {"MD": True}}, "contact_limits.us_states.MD", "or false to remove"),
        ({"countries": {"DE": {"max_calls": 1, "within": "1d"}}}, "contact_limits.countries.DE.law", "the law's short name"),
        ({"countries": {"DE": {"max_calls": 1, "within": "1d", "law": ""}}}, "contact_limits.countries.DE.law", "short name"),
        ({"countries": {"DE": {"max_calls": 1, "within": "1d", "law": "x", "source": 3}}}, "contact_limits.countries.DE.source",
         "expected a string"),
        ({"countries": {"DE": {"max_call": 1, "within": "1d", "law": "x"}}}, "contact_limits.countries.DE.max_call",
         "did you mean 'max_calls'?"),
        ({"countries": {"DE": {"max_calls": 2, "law": "x"}}}, "contact_limits.countries.DE", "max_calls and within together"),
        ({"countries": {"DE": {"within": "1d", "law": "x"}}}, "contact_limits.countries.DE", "max_calls and within together"),
        ({"countries": {"DE": {"law": "x"}}}, "contact_limits.countries.DE", "after_refusal, or both"),
        ({"countries": {"DE": {"max_calls": 0, "within": "1d", "law": "x"}}}, "contact_limits.countries.DE.max_calls", "at least 1"),
        ({"countries": {"DE": {"max_calls": True, "within": "1d", "law": "x"}}}, "contact_limits.countries.DE.max_calls",
         "at least 1"),
        ({"countries": {"DE": {"max_calls": 2.5, "within": "1d", "law": "x"}}}, "contact_limits.countries.DE.max_calls",
         "at least 1"),
        ({"countries": {"DE": {"max_calls": 2, "within": "a week", "law": "x"}}}, "contact_limits.countries.DE.within",
         "expected a duration"),
        ({"countries": {"DE": {"max_calls": 2, "within": "32d", "law": "x"}}}, "contact_limits.countries.DE.within",
         "at most 31 days, got '32d'"),
        ({"countries": {"DE": {"after_refusal": "-1d", "law": "x"}}}, "contact_limits.countries.DE.after_refusal",
         "expected a duration"),
        ({"countries": {"DE": {"after_refusal": 0, "law": "x"}}}, "contact_limits.countries.DE.after_refusal", "expected a duration"),
    ],
)
def test_a_bad_value_is_an_error_naming_its_key(table: dict[str, Any], key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_contact_limits(table, source="policy.toml")
    assert caught.value.key == key and problem in str(caught.value)
    assert str(caught.value).startswith(f"policy.toml: {key}: ")


def test_a_window_of_31_days_and_a_long_quiet_period_are_allowed() -> None:
    parsed = parse_contact_limits(
        {"countries": {"DE": {"max_calls": 9, "within": "31d", "after_refusal": "365d", "law": "x"}}}, source="p"
    )
    germany = parsed.countries["DE"]
    assert germany.frequency is not None and germany.frequency.window == 31 * 86_400 and germany.quiet_period() == "365 days"


def test_the_policy_loader_reads_the_table(write_policy: Callable[..., Path]) -> None:
    policy = load_policy(
        write_policy('[contact_limits]\nus_states.MD = false\n[contact_limits.countries.DE]\nafter_refusal = "30d"\nlaw = "UWG"\n')
    )
    assert "MD" not in policy.contact_limits.us_states and policy.contact_limits.countries["DE"].after_refusal == 30 * 86_400
    assert load_policy(write_policy("")).contact_limits is shipped_contact_limits()
    with pytest.raises(ConfigError) as caught:
        load_policy(write_policy("contact_limits = 3\n"))
    assert caught.value.key == "contact_limits"


def test_the_example_in_the_docs_loads_and_does_what_it_says(write_policy: Callable[..., Path]) -> None:
    [block] = [b for b in read_blocks(ROOT / "docs" / "telemarketing.md") if b.language == "toml" and "[contact_limits]" in b.text]
    parsed = load_policy(write_policy(block.text)).contact_limits
    germany = parsed.for_number(classify_number("+493012345678"))
    assert germany is not None and germany.frequency is not None and germany.frequency.within() == "7 days"
    assert germany.quiet_period() == "90 days"
    florida = parsed.for_number(classify_number(MIAMI))
    assert florida is not None and florida.frequency is not None and florida.frequency.max_calls == 2
    assert parsed.for_number(classify_number(BALTIMORE)) is None and parsed.for_number(classify_number(PARIS)) is not None
