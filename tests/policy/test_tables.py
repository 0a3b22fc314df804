"""The TOML table reader every policy section uses (callguard.policy.tables): dotted keys,
"did you mean", and the shared value readers, each error one line naming the key."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callguard import ConfigError
from callguard.policy import FailMode
from callguard.policy.tables import Table, e164_number, format_key, region, timestamp, urls

SOURCE = "policy.toml"


def table(data: dict[str, Any], *path: str) -> Table:
    return Table(data, path, SOURCE)


def message(caught: pytest.ExceptionInfo[ConfigError]) -> str:
    return str(caught.value)


@pytest.mark.parametrize(
    ("parts", "key"),
    [
        (("accounts", "AC" + "a" * 32, "caller_ids[0]"), "accounts.AC" + "a" * 32 + ".caller_ids[0]"),
        (("accounts", "x", "sip_domains", "pbx.sip.twilio.com"), 'accounts.x.sip_domains."pbx.sip.twilio.com"'),
        (("campaigns", "spring sale"), 'campaigns."spring sale"'),
        ((), ""),
    ],
)
def test_keys_are_written_as_toml_writes_them(parts: tuple[str, ...], key: str) -> None:
    assert format_key(parts) == key


@given(st.lists(st.from_regex(r"[A-Za-z0-9_-]+", fullmatch=True), max_size=5))
def test_bare_keys_are_joined_with_dots(parts: list[str]) -> None:
    assert format_key(parts) == ".".join(parts)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("suspendd", "unknown key (did you mean 'suspended'?)"),  # a typo: the closest key
        ("inherit", "unknown key (did you mean 'inherit_permissions'?)"),  # the start of exactly one key
        ("colour", "unknown key; allowed: suspended, inherit_permissions, name"),  # nothing close: every key
    ],
)
def test_an_unknown_key_names_the_closest_allowed_one(name: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        table({name: True}, "accounts", "main").check_keys(("suspended", "inherit_permissions", "name"))
    assert message(caught) == f"{SOURCE}: accounts.main.{name}: {expected}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("yes", "expected true or false, got 'yes'"),
        ({"a": 1}, "expected true or false, got a table"),
        ([True], "expected true or false, got an array"),
    ],
)
def test_a_value_of_the_wrong_type_is_described_in_tomls_words(value: Any, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        table({"suspended": value}, "accounts", "main").bool("suspended", False)
    assert message(caught) == f"{SOURCE}: accounts.main.suspended: {expected}"


def test_readers_return_values_and_defaults() -> None:
    read = table({"on": True, "name": "x", "list": ["a"], "sub": {"k": 1}, "mode": "connect"}, "defaults")
    assert read.bool("on", False) is True and read.bool("missing", True) is True
    assert read.str("name") == "x" and read.str("missing", "d") == "d" and read.str("missing") is None
    assert read.str_list("list") == ["a"] and read.str_list("missing") is None
    sub = read.table("sub")
    assert sub is not None and sub.key("k") == "defaults.sub.k" and read.table("missing") is None
    assert read.choice("mode", FailMode, FailMode.REJECT) is FailMode.CONNECT
    assert read.choice("missing", FailMode, FailMode.REJECT) is FailMode.REJECT


def test_a_choice_lists_the_choices() -> None:
    with pytest.raises(ConfigError) as caught:
        table({"fail_mode": "open"}, "defaults").choice("fail_mode", FailMode, FailMode.REJECT)
    assert message(caught) == f"{SOURCE}: defaults.fail_mode: expected one of 'reject', 'connect', got 'open'"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("UK", "'UK' is not a region phonenumbers knows (did you mean 'GB'?)"),
        ("gb", "'gb' is not a region phonenumbers knows (did you mean 'GB'?)"),
        ("XX", "'XX' is not a region phonenumbers knows"),
        (1, 'expected an ISO 3166-1 region code such as "US", got 1'),
    ],
)
def test_a_region_that_phonenumbers_does_not_know(value: Any, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        region(table({}, "defaults"), "default_region", value)
    assert message(caught) == f"{SOURCE}: defaults.default_region: {expected}"


def test_a_valid_e164_number_is_read_as_written() -> None:
    assert e164_number(table({}), "caller_id", "+14155550100") == "+14155550100"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+1 415 555 0100", "'+1 415 555 0100' is not in E.164 form; write '+14155550100'"),
        ("+1415555", "'+1415555' is not a valid phone number"),
        ("4155550100", "'4155550100' is not an E.164 number (\"+\", country code, number)"),
        (14155550100, 'expected an E.164 number such as "+14155550100", got 14155550100'),
    ],
)
def test_an_e164_number_must_be_written_in_e164_form(value: Any, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        e164_number(table({}, "accounts", "main"), "caller_id", value)
    assert message(caught) == f"{SOURCE}: accounts.main.caller_id: {expected}"


def test_timestamps_need_an_offset_and_dates_are_midnight_utc() -> None:
    read = table({}, "blocked_prefixes[0]")
    at = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)
    assert timestamp(read, "expires", at) == at.timestamp()
    assert timestamp(read, "expires", date(2027, 1, 1)) == datetime(2027, 1, 1, tzinfo=UTC).timestamp()
    with pytest.raises(ConfigError) as caught:
        timestamp(read, "expires", datetime(2027, 1, 1, 12, 0))
    assert message(caught) == (
        f"{SOURCE}: blocked_prefixes[0].expires: 2027-01-01T12:00:00 has no UTC offset; write e.g. 2027-01-01T12:00:00Z"
    )


def test_urls_must_be_absolute_http() -> None:
    assert urls(table({"answer_urls": ["https://app.example.com/voice/"]}), "answer_urls") == ("https://app.example.com/voice/",)
    assert urls(table({}), "answer_urls") == ()
    with pytest.raises(ConfigError) as caught:
        urls(table({"answer_urls": ["https://ok.example.com/", "ftp://x"]}, "defaults"), "answer_urls")
    assert message(caught) == f"{SOURCE}: defaults.answer_urls[1]: 'ftp://x' is not an absolute http(s) URL"
