"""Weekly calling windows: parsing ``"08:00-21:00"`` rules and asking whether a moment is inside.

A :class:`WeeklyWindows` holds one window (or none: closed) per weekday, plus closed dates. It is
built from a table whose keys are ``all``, ``weekdays``, ``weekends`` or a day (``mon`` … ``sun``),
the most specific key winning, each value ``"HH:MM-HH:MM"`` or ``"closed"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..errors import ConfigError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_GROUPS = {"all": DAYS, "weekdays": DAYS[:5], "weekends": DAYS[5:]}
WINDOW_KEYS = ("all", "weekdays", "weekends", *DAYS)
_WINDOW = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")


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


@dataclass(frozen=True)
class WeeklyWindows:
    """A window (or None: closed) for each weekday, Monday first, and dates closed all day."""

    days: tuple[DayWindow | None, ...]
    source: str = ""
    holidays: frozenset[date] = frozenset()

    def window_on(self, day: date) -> DayWindow | None:
        if day in self.holidays:
            return None
        return self.days[day.weekday()]

    def allows(self, local: datetime) -> bool:
        window = self.window_on(local.date())
        return window is not None and window.contains(local.hour * 60 + local.minute)

    def intersect(self, other: WeeklyWindows) -> WeeklyWindows:
        days = tuple(a.intersect(b) if a is not None else None for a, b in zip(self.days, other.days, strict=True))
        sources = "; ".join(s for s in (self.source, other.source) if s)
        return WeeklyWindows(days, sources, self.holidays | other.holidays)

    def with_holidays(self, holidays: frozenset[date]) -> WeeklyWindows:
        return WeeklyWindows(self.days, self.source, self.holidays | holidays) if holidays else self

    def describe(self, day: date) -> str:
        window = self.window_on(day)
        if day in self.holidays:
            return "closed (holiday)"
        return "closed" if window is None else str(window)


def parse_window(value: Any, *, source: str, key: str) -> DayWindow | None:
    if value == "closed":
        return None
    match = _WINDOW.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(f"expected \"HH:MM-HH:MM\" or \"closed\", got {value!r}", source=source, key=key)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or end > 24 * 60 or start >= end:
        raise ConfigError(f"{value!r} is not a window within one day (start before end, up to 24:00)", source=source, key=key)
    return DayWindow(start, end)


def parse_weekly(
    table: Mapping[str, Any], *, source: str, key: str, base: WeeklyWindows | None = None, extra_keys: tuple[str, ...] = ()
) -> WeeklyWindows:
    """Windows from a rule table; days the table does not mention keep ``base``'s (or are closed)."""
    unknown = [k for k in table if k not in WINDOW_KEYS and k not in extra_keys]
    if unknown:
        raise ConfigError(f"unknown key; allowed: {', '.join((*WINDOW_KEYS, *extra_keys))}", source=source, key=f"{key}.{unknown[0]}")
    days: list[DayWindow | None] = list(base.days) if base is not None else [None] * 7
    mentioned = False
    for group in ("all", "weekdays", "weekends", *DAYS):  # least to most specific
        if group in table:
            mentioned = True
            window = parse_window(table[group], source=source, key=f"{key}.{group}")
            for day in _GROUPS.get(group, (group,)):
                days[DAYS.index(day)] = window
    if not mentioned and base is None:
        raise ConfigError("names no window (all, weekdays, weekends or a day)", source=source, key=key)
    return WeeklyWindows(tuple(days), str(table.get("source", base.source if base else "")), base.holidays if base else frozenset())


def parse_holidays(value: Any, *, source: str, key: str) -> frozenset[date]:
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise ConfigError("expected an array of dates such as [2026-12-25]", source=source, key=key)
    out = set()
    for index, item in enumerate(value):
        if isinstance(item, datetime) or not isinstance(item, date):
            raise ConfigError(f"expected a date such as 2026-12-25, got {item!r}", source=source, key=f"{key}[{index}]")
        out.add(item)
    return frozenset(out)
