"""The time zones a callee may be in (callguard.hours.zones): phonenumbers' united with the
shipped NANP table for +1 numbers, phonenumbers' alone elsewhere."""

from __future__ import annotations

import pytest

from callguard.hours import callee_zones
from callguard.numbers import classify_number


def zones(e164: str) -> list[str]:
    return [zone.key for zone in callee_zones(classify_number(e164))]


@pytest.mark.parametrize(
    "e164, phonenumbers_says, added",
    [
        # The three measured numbers: phonenumbers gives each one zone.
        ("+18505550123", ["America/New_York"], ["America/Chicago"]),  # the Florida panhandle
        ("+19285550123", ["America/Phoenix"], ["America/Denver"]),  # the Navajo Nation
        ("+15415550123", ["America/Los_Angeles"], ["America/Boise", "America/Denver"]),  # Malheur County
        ("+18075550123", ["America/Toronto"], ["America/Atikokan", "America/Winnipeg"]),
    ],
)
def test_phonenumbers_zones_come_first_then_the_tables_others(e164: str, phonenumbers_says: list[str], added: list[str]) -> None:
    info = classify_number(e164)
    assert list(info.time_zones) == phonenumbers_says
    assert zones(e164) == phonenumbers_says + added


def test_an_exchange_row_narrows_the_area_codes_corrections_never_phonenumbers() -> None:
    assert zones("+18504320123") == ["America/Chicago"]  # Pensacola
    assert zones("+18506440123") == ["America/New_York"]  # Tallahassee


def test_numbers_outside_the_table_keep_phonenumbers_zones() -> None:
    assert zones("+442079460123") == ["Europe/London"]
    assert zones("+74012345678") == ["Europe/Kaliningrad"]  # corrected name, as before
    assert zones("+18765550123") == ["America/Jamaica"]  # +1, another region: its own zones only
    # Toll-free has no row: phonenumbers' zones of the US's own prefixes, the table adding none.
    toll_free = zones("+18005550123")
    assert set(toll_free) <= set(classify_number("+18005550123").time_zones) and "Pacific/Honolulu" in toll_free


def test_the_answer_is_the_same_object_for_the_same_exchange() -> None:
    first, second = callee_zones(classify_number("+19285550123")), callee_zones(classify_number("+19285550199"))
    assert first is second
