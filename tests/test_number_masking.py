"""Phone numbers in free text, masked (callguard.number_masking)."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from callguard.number_masking import MASK, mask_digits, mask_numbers


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("+14155550100", "+1415•••0100"),
        ("opt-out recorded: +12125550123 for account family AC1", "opt-out recorded: +1212•••0123 for account family AC1"),
        ("+442079460123", "+4420••••0123"),
        ("+4930123456", "+493•••3456"),
        ("+861012345678901", "+8610•••••••8901"),
        ("'+14155550100'", "'+1415•••0100'"),
        ("To=%2B14155550100&From=%2b442079460123", "To=%2B1415•••0100&From=%2b4420••••0123"),
        ("sip:+14155550100@pbx.sip.twilio.com", "sip:+1415•••0100@pbx.sip.twilio.com"),
        ("sip:9011442079460123@pbx.sip.twilio.com", "sip:9011••••••••0123@pbx.sip.twilio.com"),
        ("tel:5550100", "tel:•••0100"),
        ("(415) 555-0100", "(415) •••-0100"),
        ("(415)555-0100", "(415)•••-0100"),
        ("415-555-0100 or 415.555.0100", "415-•••-0100 or 415.•••.0100"),
        ("1-415-555-0100", "1-415-•••-0100"),
        ("4155550100", "415•••0100"),
        ("To=14155550100", "To=1415•••0100"),
        ("02079460123", "0207•••0123"),
        ("011442079460123", "0114•••••••0123"),
        ("+1 415 555 0100", "+1 415 ••• 0100"),
        ("+1 (415) 555-0100", "+1 (415) •••-0100"),
        ("+44 20 7946 0123", "+44 20 •••• 0123"),
        ("+49 30 12345678", "+49 30 ••••5678"),
        ("+14155550100 2024-05-01T12:30:00+02:00", "+1415•••0100 2024-05-01T12:30:00+02:00"),
        ("+1 415 555 0100 2024-05-01", "+1 415 ••• 0100 2024-05-01"),
    ],
)
def test_phone_numbers_are_masked(text: str, masked: str) -> None:
    assert mask_numbers(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "CA0123456789abcdef0123456789abcdef",
        "call CA12345678901234567890123456789012 of AC00000000000000000000000000000001",
        "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000001/Calls/CA4155550100aaaaaaaaaaaaaaaaaaaaaa.json",
        "2024-05-01T12:30:00.123456+14:00",
        "0001-01-01T00:00:00+14:00",
        "[01/May/2024:12:30:00 +0000] \"POST /voice/outbound HTTP/1.1\" 200 1532",
        "serving on 127.0.0.1:8000 with 5 workers (pid 4155)",
        "sent 2147483648 bytes; 3145550100B",
        "epoch 1717171717.25, at 1717171717",
        "registry us_ftc reloaded (250000000 numbers)",
        "10.100.200.1234",
        "sip:201@pbx.sip.twilio.com",
        "+1 2 3",
        "1e+100",
        "+1415•••0100",
    ],
)
def test_what_is_no_phone_number_is_left_alone(text: str) -> None:
    assert mask_numbers(text) == text


def test_mask_digits_keeps_the_first_and_last_digits_and_hides_at_least_three() -> None:
    assert mask_digits("14155550100") == "1415•••0100"
    assert mask_digits("12345678") == "1•••5678"
    assert mask_digits("5550100") == "•••0100"


# -- properties ------------------------------------------------------------------------------

E164 = st.builds(lambda first, rest: f"+{first}{rest}", st.sampled_from("123456789"), st.text("0123456789", min_size=7, max_size=14))
NEAR_NUMBERS = st.text(alphabet="0123456789+%2Bb ()-.:@sipte•_xA", max_size=60)
ANY_TEXT = st.one_of(st.text(max_size=40), NEAR_NUMBERS)
FULL_E164 = re.compile(r"(?:\+|%2[Bb])\d{8,}")


@given(st.one_of(NEAR_NUMBERS, st.text(max_size=80)))
def test_no_full_e164_number_is_left_visible(text: str) -> None:
    assert FULL_E164.search(mask_numbers(text)) is None


@given(ANY_TEXT, E164, ANY_TEXT)
def test_a_number_anywhere_in_a_line_is_masked(before: str, number: str, after: str) -> None:
    digits = number[1:]
    assume(digits not in before and digits not in after)
    assert digits not in mask_numbers(before + number + after)


@given(st.one_of(NEAR_NUMBERS, st.text(max_size=80)))
def test_masking_only_turns_digits_into_bullets_and_is_idempotent(text: str) -> None:
    masked = mask_numbers(text)
    assert len(masked) == len(text)
    assert all(out == was or (was.isdigit() and out == MASK) for was, out in zip(text, masked, strict=True))
    assert mask_numbers(masked) == masked


SIDS = st.builds(
    lambda kind, hex_: kind + hex_, st.sampled_from(["CA", "AC", "PN", "SM", "RE"]), st.text("0123456789abcdef", min_size=32, max_size=32)
)
TIMESTAMPS = st.builds(
    lambda moment, sep, zulu: moment.isoformat(sep=sep).replace("+00:00", "Z") if zulu else moment.isoformat(sep=sep),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()),
    st.sampled_from(["T", " "]),
    st.booleans(),
)
UTC_TIMESTAMPS = st.datetimes(timezones=st.just(UTC)).map(lambda moment: moment.isoformat())
PORTS = st.integers(1, 65535).map(lambda port: f"127.0.0.1:{port}")
BYTE_COUNTS = st.integers(0, 10**12).map(lambda count: f"{count} bytes")
EPOCH_SECONDS = st.integers(0, 1999999999).map(str)
WORDS = st.text(string.ascii_letters + ",;=/'\"[]", min_size=1, max_size=8)


LEFT_ALONE = st.one_of(SIDS, TIMESTAMPS, UTC_TIMESTAMPS, PORTS, BYTE_COUNTS, EPOCH_SECONDS, WORDS)


@given(st.lists(LEFT_ALONE, max_size=8), st.sampled_from([" ", ", ", " | "]))
def test_sids_timestamps_ports_and_byte_counts_are_left_alone(parts: list[str], separator: str) -> None:
    text = separator.join(parts)
    assert mask_numbers(text) == text


@given(SIDS, TIMESTAMPS, E164)
def test_a_number_beside_a_sid_and_a_timestamp_leaves_them_whole(sid: str, timestamp: str, number: str) -> None:
    masked = mask_numbers(f"call {sid} at {timestamp} to {number}")
    assert masked.startswith(f"call {sid} at {timestamp} to ") and number[1:] not in masked
