"""Public-holiday calendars a rule may name (``"US"``, ``"US-FL"``, ``"FR"``, ``"CA-QC"``), from
the ``holidays`` package (the ``holidays`` extra), and the closed days of a rule.

A calendar is a country, or a country and one of its subdivisions, as the ``holidays`` package
names them. Its dates are computed the first time a day of a year is asked about and kept per
year, so a decision costs a dict and a set lookup. The package is imported only then, and when
a policy names a calendar (to check the name): a policy naming one without the package installed
fails to load with one line naming the extra.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any

from ..errors import ConfigError, MissingExtra
from ..extras import extra_needed

_NAME = re.compile(r"([A-Z]{2,3})(?:-([A-Z0-9]{1,5}))?")


class HolidayCalendar:
    """One country's (or subdivision's) public holidays; built by :func:`holiday_calendar`."""

    __slots__ = ("name", "country", "subdivision", "_years")

    def __init__(self, name: str) -> None:
        match = _NAME.fullmatch(name)
        if match is None:
            raise ValueError(f"not a calendar name: {name!r}")
        self.name = name
        self.country, self.subdivision = match.group(1), match.group(2)
        self._years: dict[int, frozenset[date]] = {}

    def closed_on(self, day: date) -> bool:
        dates = self._years.get(day.year)
        if dates is None:
            dates = self._years[day.year] = self._dates(day.year)
        return day in dates

    def _dates(self, year: int) -> frozenset[date]:
        with extra_needed("holidays", setting=f"holiday calendar {self.name}"):
            import holidays
        return frozenset(holidays.country_holidays(self.country, subdiv=self.subdivision, years=year).keys())

    def __repr__(self) -> str:
        return f"HolidayCalendar({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HolidayCalendar) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


@cache  # names are few: the countries and subdivisions the package knows
def holiday_calendar(name: str) -> HolidayCalendar:
    """The one calendar of that name (shared, so each year is computed once per process)."""
    return HolidayCalendar(name)


@lru_cache(maxsize=1)
def _supported() -> dict[str, frozenset[str]]:
    import holidays

    return {country: frozenset(subdivisions) for country, subdivisions in holidays.list_supported_countries().items()}


def check_calendar_name(name: str, *, source: str, key: str) -> None:
    """Raise ConfigError unless the ``holidays`` package knows ``name`` (MissingExtra without it)."""
    match = _NAME.fullmatch(name)
    if match is not None:
        try:
            with extra_needed("holidays", setting=key):
                supported = _supported()
        except MissingExtra as exc:  # the same error, naming the policy file too
            raise MissingExtra(extra=exc.extra, package=exc.package, setting=key, install=exc.install, source=source) from None
        country, subdivision = match.groups()
        if country in supported and (subdivision is None or subdivision in supported[country]):
            return
        if country in supported:
            raise ConfigError(
                f"{name!r}: the holidays package knows no subdivision {subdivision!r} of {country}", source=source, key=key
            )
    raise ConfigError(
        f"{name!r} is not a holiday calendar: a country or country-subdivision as the holidays package names them (\"FR\", \"US-FL\")",
        source=source, key=key,
    )


@dataclass(frozen=True)
class ClosedDays:
    """Dates closed all day, and calendars whose public holidays are closed all day."""

    dates: frozenset[date] = frozenset()
    calendars: tuple[HolidayCalendar, ...] = ()

    def __contains__(self, day: object) -> bool:
        return day in self.dates or any(c.closed_on(day) for c in self.calendars)  # type: ignore[arg-type]

    def __bool__(self) -> bool:
        return bool(self.dates or self.calendars)

    def __or__(self, other: ClosedDays) -> ClosedDays:
        if not other:
            return self
        if not self:
            return other
        calendars = self.calendars + tuple(c for c in other.calendars if c not in self.calendars)
        return ClosedDays(self.dates | other.dates, calendars)

    def why(self, day: date) -> str | None:
        """Why ``day`` is closed ("holiday", "public holiday in FR"), or None when it is not."""
        if day in self.dates:
            return "holiday"
        for calendar in self.calendars:
            if calendar.closed_on(day):
                return f"public holiday in {calendar.name}"
        return None


def parse_closed_days(value: Any, *, source: str, key: str, check_names: bool = True) -> ClosedDays:
    """A ``holidays`` list: TOML dates (``2026-12-25``) and calendar names (``"US-FL"``), mixed.

    ``check_names=False`` (the shipped rules) takes names as they are, without importing the
    package: their dates are computed, and the package needed, only when a call asks."""
    if value is None:
        return ClosedDays()
    if not isinstance(value, list):
        raise ConfigError(
            "expected an array of dates such as [2026-12-25] or holiday calendars such as [\"US-FL\"]", source=source, key=key
        )
    dates: set[date] = set()
    calendars: list[HolidayCalendar] = []
    for index, item in enumerate(value):
        where = f"{key}[{index}]"
        if isinstance(item, str):
            if check_names:
                check_calendar_name(item, source=source, key=where)
            elif _NAME.fullmatch(item) is None:
                raise ConfigError(f"{item!r} is not a holiday calendar name", source=source, key=where)
            calendar = holiday_calendar(item)
            if calendar not in calendars:
                calendars.append(calendar)
        elif isinstance(item, date) and not isinstance(item, datetime):
            dates.add(item)
        else:
            raise ConfigError(
                f"expected a date such as 2026-12-25 or a holiday calendar such as \"US-FL\", got {item!r}", source=source, key=where
            )
    return ClosedDays(frozenset(dates), tuple(calendars))
