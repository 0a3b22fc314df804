"""ISO 8601 instants as the API, the CLI and the policy read them (callguard.instants)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callguard.instants import BadInstant, parse_instant


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-04", datetime(2026, 12, 4, tzinfo=UTC)),
        ("2026-12-04T09:30:00Z", datetime(2026, 12, 4, 9, 30, tzinfo=UTC)),
        ("2026-12-04T09:30:00+01:00", datetime(2026, 12, 4, 8, 30, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
        ("9999-12-31T23:59:59Z", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_instants_read_as_utc(text: str, expected: datetime) -> None:
    assert parse_instant(text) == expected.timestamp()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("yesterday", "is not an ISO 8601 date-time"),
        ("", "is not an ISO 8601 date-time"),
        ("0001-01-01T00:00:00+14:00", "is outside years 1 to 9999 in UTC"),  # year 0 in UTC
        ("9999-12-31T23:59:59-14:00", "is outside years 1 to 9999 in UTC"),  # year 10000
        ("9999-12-31T23:59:59.999999Z", "is outside years 1 to 9999 in UTC"),  # its float reads back as 10000
    ],
)
def test_bad_instants_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(BadInstant) as caught:
        parse_instant(text)
    assert caught.value.text == text and caught.value.problem == problem and isinstance(caught.value, ValueError)


@given(
    moment=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    offset_minutes=st.integers(-14 * 60, 14 * 60),
)
def test_every_instant_read_can_be_written_back(moment: datetime, offset_minutes: int) -> None:
    text = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes))).isoformat()
    epoch = parse_instant(text)
    assert epoch == datetime.fromisoformat(text).timestamp()
    assert datetime.fromtimestamp(epoch, UTC).isoformat()  # as every answer writes it
