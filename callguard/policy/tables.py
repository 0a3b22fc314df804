"""Read the tables of a parsed TOML policy, with one-line errors.

Every policy section reads its keys through a :class:`Table`, which knows the dotted key it
sits at: an error names the file, that key and the problem in one line, because that line is
what a failed start-up and ``callguard policy validate`` print. An unknown key is an error (a
typo such as ``suspendd = true`` must not silently leave an account open) with a "did you
mean" when one allowed key is close. The value readers shared by several sections (regions,
E.164 numbers, date-times, URLs) are here too.
"""

from __future__ import annotations

import builtins
import difflib
import enum
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

import phonenumbers

from ..errors import ConfigError

E = TypeVar("E", bound=enum.Enum)

REGION_HINTS = {"UK": "GB", "EL": "GR", "EN": "GB", "USA": "US", "CAN": "CA"}
HTTP_URL = re.compile(r"https?://[^\s/?#]+(?:[/?#]\S*)?")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+(?:\[\d+\])?")


def format_key(parts: Iterable[str]) -> str:
    """A dotted key as TOML writes it: bare keys, an [index] for array items, the rest quoted."""
    return ".".join(part if _BARE_KEY.fullmatch(part) else f'"{part}"' for part in parts)


def describe(value: Any) -> str:
    """A value as an error message shows it, in TOML's words."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return repr(value)


class Table:
    """One TOML table being read; knows its dotted key for error messages."""

    def __init__(self, data: Mapping[str, Any], path: tuple[str, ...], source: str) -> None:
        self.data = data
        self.path = path
        self.source = source

    def key(self, name: str | None = None) -> str:
        return format_key(self.path if name is None else (*self.path, name))

    def error(self, name: str | None, problem: str) -> ConfigError:
        return ConfigError(problem, source=self.source, key=self.key(name) or None)

    def check_keys(self, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for name in self.data:
            if name not in allowed:
                starts = [a for a in allowed if a.startswith(name)]
                hint = starts[:1] if len(starts) == 1 else difflib.get_close_matches(name, allowed, n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else f"; allowed: {', '.join(allowed)}"
                raise self.error(name, f"unknown key{suggestion}")

    def bool(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, f"expected true or false, got {describe(value)}")
        return value

    # The readers are named after TOML's types; `builtins.str` is the type where a method shadows it.
    def str(
        self, name: str, default: builtins.str | None = None, *, pattern: re.Pattern[builtins.str] | None = None, what: builtins.str = ""
    ) -> builtins.str | None:
        value = self.data.get(name, default)
        if value is None:
            return None
        if not isinstance(value, builtins.str):
            raise self.error(name, f"expected a string, got {describe(value)}")
        if pattern is not None and not pattern.fullmatch(value):
            raise self.error(name, f"{value!r} is not {what}")
        return value

    def choice(self, name: builtins.str, enum_type: type[E], default: E) -> E:
        value = self.data.get(name, default.value)
        choices = [member.value for member in enum_type]
        if value not in choices:
            raise self.error(name, f"expected one of {', '.join(repr(c) for c in choices)}, got {describe(value)}")
        return enum_type(value)

    def str_list(self, name: builtins.str) -> list[builtins.str] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, builtins.str) for v in value):
            raise self.error(name, f"expected an array of strings, got {describe(value)}")
        return value

    def table(self, name: builtins.str) -> Table | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error(name, f"expected a table, got {describe(value)}")
        return Table(value, (*self.path, name), self.source)


def region(table: Table, name: str, value: Any) -> str:
    """An ISO 3166-1 region code phonenumbers knows, with a hint for the usual slips ("UK")."""
    if not isinstance(value, str):
        raise table.error(name, f"expected an ISO 3166-1 region code such as \"US\", got {describe(value)}")
    if value not in phonenumbers.SUPPORTED_REGIONS:
        hint = REGION_HINTS.get(value.upper()) or (value.upper() if value.upper() in phonenumbers.SUPPORTED_REGIONS else None)
        suggestion = f" (did you mean {hint!r}?)" if hint else ""
        raise table.error(name, f"{value!r} is not a region phonenumbers knows{suggestion}")
    return value


def e164_number(table: Table, name: str, value: Any) -> str:
    """A valid phone number written in E.164 form exactly (the form it is compared in)."""
    if not isinstance(value, str):
        raise table.error(name, f"expected an E.164 number such as \"+14155550100\", got {describe(value)}")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise table.error(name, f"{value!r} is not an E.164 number (\"+\", country code, number)") from None
    canonical = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number):
        raise table.error(name, f"{value!r} is not a valid phone number")
    if canonical != value:
        raise table.error(name, f"{value!r} is not in E.164 form; write {canonical!r}")
    return canonical


def timestamp(table: Table, name: str, value: Any) -> float:
    """A TOML date-time with a UTC offset (or a date: midnight UTC) as epoch seconds."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise table.error(name, f"{value.isoformat()} has no UTC offset; write e.g. {value.isoformat()}Z")
        return value.timestamp()
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tzinfo=UTC).timestamp()
    raise table.error(name, f"expected a TOML date-time such as 2027-01-01T00:00:00Z, got {describe(value)}")


def urls(table: Table, name: str) -> tuple[str, ...]:
    """An array of absolute http(s) URLs (none when the key is absent)."""
    found = table.str_list(name) or []
    for index, url in enumerate(found):
        if not HTTP_URL.fullmatch(url):
            raise table.error(f"{name}[{index}]", f"{url!r} is not an absolute http(s) URL")
    return tuple(found)
