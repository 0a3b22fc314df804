"""How long audited decisions are kept, and the cut-off it gives (callguard.retention)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callguard.retention import Retention, parse_retention


def epoch(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    "text, retention",
    [
        ("5y", Retention(years=5, text="5y")),
        (" 5Y ", Retention(years=5, text="5Y")),
        ("400d", Retention(seconds=400 * 86_400, text="400d")),
        ("36h", Retention(seconds=36 * 3_600, text="36h")),
        ("7200s", Retention(seconds=7_200, text="7200s")),
        ("86400", Retention(seconds=86_400, text="86400")),
        ("forever", None),
        ("FOREVER", None),
    ],
)
def test_the_forms_a_retention_is_written_in(text: str, retention: Retention | None) -> None:
    assert parse_retention(text) == retention


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "expected a duration such as 5y, 400d, 36h or seconds, or forever, got ''"),
        ("5 years", "expected a duration such as 5y, 400d, 36h or seconds, or forever, got '5 years'"),
        ("1.5y", "expected a duration such as 5y, 400d, 36h or seconds, or forever, got '1.5y'"),
        ("-5y", "expected a duration such as 5y, 400d, 36h or seconds, or forever, got '-5y'"),
        ("6m", "expected a duration such as 5y, 400d, 36h or seconds, or forever, got '6m'"),  # months or minutes?
        ("0y", "expected 1 to 100 years (or forever), got '0y'"),
        ("101y", "expected 1 to 100 years (or forever), got '101y'"),
        ("5", "must be at least an hour (a bare number is seconds), got '5'"),
        ("59m", "expected a duration such as 5y, 400d, 36h or seconds, or forever, got '59m'"),
        ("40000d", "expected at most 100 years (or forever), got '40000d'"),
    ],
)
def test_a_retention_that_cannot_be_read_says_why(text: str, problem: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_retention(text)
    assert str(raised.value) == problem


def test_years_are_calendar_years() -> None:
    five = parse_retention("5y")
    assert five is not None
    assert five.cutoff(epoch(2026, 12, 8, 9, 30)) == epoch(2021, 12, 8, 9, 30)
    assert five.cutoff(epoch(2028, 2, 29, 12)) == epoch(2023, 2, 28, 12)  # no 29 February: a day more is kept, not a day less


def test_days_and_hours_are_fixed_lengths() -> None:
    assert parse_retention("400d").cutoff(1_800_000_000.0) == 1_800_000_000.0 - 400 * 86_400  # type: ignore[union-attr]
    assert parse_retention("36h").cutoff(1_800_000_000.5) == 1_800_000_000.5 - 36 * 3_600  # type: ignore[union-attr]
    assert str(parse_retention("36h")) == "36h"
