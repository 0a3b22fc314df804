"""Weekly calling windows: parsing ``"08:00-21:00"`` rules and asking whether a moment is inside.

A :class:`WeeklyWindows` holds the windows of each weekday (none: closed; several: a break
between them, as France's ``"10:00-13:00,14:00-20:00"``), plus closed days (dates and holiday
calendars, :mod:`.calendars`). It is built from a table whose keys are ``all``, ``weekdays``,
``weekends`` or a day (``mon`` … ``sun``), the most specific key winning, each value
``"HH:MM-HH:MM"``, several of them joined by commas or given as an array, or ``"closed"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..errors import ConfigError
from .calendars import ClosedDays, parse_closed_days

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_GROUPS = {"all": DAYS, "weekdays": DAYS[:5], "weekends": DAYS[5:]}
WINDOW_KEYS = ("all", "weekdays", "weekends", *DAYS)
_WINDOW = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")
_EXPECTED = "expected \"HH:MM-HH:MM\", several joined by commas (\"10:00-13:00,14:00-20:00\"), or \"closed\""

# A day's windows, earliest first, apart from each other; () is closed.
DayWindows = tuple["DayWindow", ...]


@dataclass(frozen=True, slots=True)
class DayWindow:
    """Minutes after local midnight: calls may ring from ``start`` up to, not including, ``end``."""

    start: int
    end: int

    def contains(self, minute: int) -> bool:
        return self.start <= minute < self.end

    def __str__(self) -> str:
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"

    def intersect(self, other: DayWindow | None) -> DayWindow | None:
        if other is None:
            return None
        start, end = max(self.start, other.start), min(self.end, other.end)
        return DayWindow(start, end) if start < end else None


def intersect_days(a: DayWindows, b: DayWindows) -> DayWindows:
    """The minutes inside both days' windows, as windows (each pair's overlap; they stay apart)."""
    out = [w for x in a for y in b if (w := x.intersect(y)) is not None]
    return tuple(sorted(out, key=lambda w: w.start))


def describe_day(windows: DayWindows) -> str:
    return ", ".join(str(w) for w in windows) if windows else "closed"


@dataclass(frozen=True)
class WeeklyWindows:
    """The windows of each weekday, Monday first (() closed), and the days closed all day."""

    days: tuple[DayWindows, ...]
    source: str = ""
    holidays: ClosedDays = ClosedDays()

    def window_on(self, day: date) -> DayWindows:
        if day in self.holidays:
            return ()
        return self.days[day.weekday()]

    def allows(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        return any(w.contains(minute) for w in self.window_on(local.date()))

    def intersect(self, other: WeeklyWindows) -> WeeklyWindows:
        days = tuple(intersect_days(a, b) for a, b in zip(self.days, other.days, strict=True))
        sources = "; ".join(s for s in (self.source, other.source) if s)
        return WeeklyWindows(days, sources, self.holidays | other.holidays)

    def with_holidays(self, holidays: ClosedDays) -> WeeklyWindows:
        return WeeklyWindows(self.days, self.source, self.holidays | holidays) if holidays else self

    def describe(self, day: date) -> str:
        why = self.holidays.why(day)
        if why is not None:
            return f"closed ({why})"
        return describe_day(self.days[day.weekday()])


def _one_window(value: str, *, source: str, key: str) -> DayWindow:
    match = _WINDOW.fullmatch(value.strip())
    if match is None:
        raise ConfigError(f"{_EXPECTED}, got {value!r}", source=source, key=key)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or end > 24 * 60 or start >= end:
        raise ConfigError(f"{value.strip()!r} is not a window within one day (start before end, up to 24:00)", source=source, key=key)
    return DayWindow(start, end)


def parse_window(value: Any, *, source: str, key: str) -> DayWindows:
    """One day's windows: ``"closed"``, ``"HH:MM-HH:MM"``, several joined by commas, or an array of them."""
    if value == "closed":
        return ()
    if isinstance(value, str):
        parts = value.split(",")
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        parts = value
    else:
        raise ConfigError(f"{_EXPECTED}, got {value!r}", source=source, key=key)
    windows = sorted((_one_window(part, source=source, key=key) for part in parts), key=lambda w: w.start)
    for earlier, later in zip(windows, windows[1:], strict=False):
        if later.start < earlier.end:
            raise ConfigError(f"the windows {earlier} and {later} overlap", source=source, key=key)
    return tuple(windows)


def parse_weekly(
    table: Mapping[str, Any], *, source: str, key: str, base: WeeklyWindows | None = None, extra_keys: tuple[str, ...] = ()
) -> WeeklyWindows:
    """Windows from a rule table; days the table does not mention keep ``base``'s (or are closed)."""
    unknown = [k for k in table if k not in WINDOW_KEYS and k not in extra_keys]
    if unknown:
        raise ConfigError(f"unknown key; allowed: {', '.join((*WINDOW_KEYS, *extra_keys))}", source=source, key=f"{key}.{unknown[0]}")
    days: list[DayWindows] = list(base.days) if base is not None else [()] * 7
    mentioned = False
    for group in ("all", "weekdays", "weekends", *DAYS):  # least to most specific
        if group in table:
            mentioned = True
            windows = parse_window(table[group], source=source, key=f"{key}.{group}")
            for day in _GROUPS.get(group, (group,)):
                days[DAYS.index(day)] = windows
    if not mentioned and base is None:
        raise ConfigError("names no window (all, weekdays, weekends or a day)", source=source, key=key)
    return WeeklyWindows(tuple(days), str(table.get("source", base.source if base else "")), base.holidays if base else ClosedDays())


def parse_holidays(value: Any, *, source: str, key: str, check_names: bool = True) -> ClosedDays:
    """A rule's ``holidays``: dates and holiday calendars (see :func:`.calendars.parse_closed_days`)."""
    return parse_closed_days(value, source=source, key=key, check_names=check_names)
