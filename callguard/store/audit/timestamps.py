"""The text a timestamp column is written as, made from a decision's epoch seconds.

Every decision is a row, and SQLite's ``DATETIME`` bind processor formats each timestamp with
Python's ``%`` formatting after a datetime has been made for it. :func:`epoch_stamps` gives the
same text for much less, where a probe shows the dialect writes SQLAlchemy's storage format.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from math import modf
from typing import Any

from ...clock import utc_datetime


def epoch_stamps(process: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """What the writer binds for a timestamp column given epoch seconds (or an aware datetime):
    the dialect's bind processor of the UTC datetime, or the datetime itself where there is none.

    SQLite's processor writes ``YYYY-MM-DD HH:MM:SS.ffffff`` with Python's ``%`` formatting, and
    making the datetime costs as much again; every decision is a row, and the rows of a batch
    fall in a second or two. There (where a probe shows the text ends in the microseconds) the
    text is made from the epoch seconds: each second's text once, the microseconds rounded as
    ``datetime.fromtimestamp`` rounds them (half to even, carrying into the next second)."""

    def general(value: Any) -> Any:
        if value.__class__ is not datetime:
            value = utc_datetime(value)
        return process(value) if process is not None else value

    probe = datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
    text = general(probe)
    if not isinstance(text, str) or not text.endswith(".789012") or general(probe.replace(microsecond=0)) != text[:-6] + "000000":
        return general
    last: list[tuple[float, str] | None] = [None]  # a whole second, and its text up to the microseconds

    def from_epoch(value: Any) -> Any:
        if value.__class__ is not float:  # what decision_values() gives; datetimes, ints: the long way
            return general(value)
        fraction, second = modf(value)
        micro = round(fraction * 1e6)  # as CPython's fromtimestamp: the fraction scaled, then half-even
        if micro >= 1_000_000:
            micro -= 1_000_000
            second += 1.0
        elif micro < 0:  # before 1970 the fraction is negative
            micro += 1_000_000
            second -= 1.0
        seen = last[0]  # one read: another thread may be writing rows too
        if seen is None or seen[0] != second:
            seen = last[0] = (second, general(second)[:-6])
        return f"{seen[1]}{micro:06d}"

    return from_epoch
