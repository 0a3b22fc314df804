"""Which calling window applies to a number: shipped defaults, policy overrides, US states.

The rule for a number is its US state's (by area code), else its country's, else the default.
A policy's ``[calling_hours]`` replaces shipped rules scope by scope; a rule it writes starts
from the effective default, so ``[calling_hours.countries.GB] sun = "closed"`` changes Sundays
only. Holidays (closed all day: dates, and public-holiday calendars such as ``"FR"`` or
``"US-FL"``) add up: global, then the country's, then the state's.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import phonenumbers

from ..errors import ConfigError
from ..numbers.classify import NumberInfo
from .windows import WeeklyWindows, parse_holidays, parse_weekly

_SHIPPED_SOURCE = "callguard/hours/data/calling_hours.toml"


@lru_cache(maxsize=1)
def us_area_code_states() -> Mapping[str, str]:
    """US area code (``"305"``) -> state (``"FL"``), from ``data/us_area_codes.toml``."""
    text = resources.files("callguard.hours").joinpath("data/us_area_codes.toml").read_text("utf-8")
    return dict(tomllib.loads(text)["area_codes"])


def us_state(info: NumberInfo) -> str | None:
    """The US state whose laws apply to ``info``'s callee, by area code (None outside the US)."""
    return us_area_code_states().get(info.e164[2:5]) if info.region == "US" else None


@dataclass(frozen=True)
class CallingHours:
    default: WeeklyWindows
    countries: Mapping[str, WeeklyWindows] = field(default_factory=dict)
    us_states: Mapping[str, WeeklyWindows] = field(default_factory=dict)

    def rule_for(self, info: NumberInfo) -> tuple[WeeklyWindows, str]:
        """The rule for ``info``'s number and a label saying where it comes from."""
        state = us_state(info)
        if state is not None and state in self.us_states:
            return self.us_states[state], f"US state {state}"
        region = info.region
        if region is not None and region in self.countries:
            return self.countries[region], f"country {region}"
        return self.default, "the default"


def _scope_rules(
    table: Mapping[str, Any], *, source: str, key: str, base: WeeklyWindows, scope: str, shipped: bool = False
) -> dict[str, WeeklyWindows]:
    rules = {}
    for name, rule in table.items():
        if not isinstance(rule, dict):
            raise ConfigError("expected a table of windows", source=source, key=f"{key}.{name}")
        if scope == "countries" and name not in phonenumbers.SUPPORTED_REGIONS:
            raise ConfigError(f"{name!r} is not a region phonenumbers knows", source=source, key=f"{key}.{name}")
        if scope == "us_states" and (len(name) != 2 or not name.isupper()):
            raise ConfigError(f"{name!r} is not a two-letter US state code", source=source, key=f"{key}.{name}")
        weekly = parse_weekly(rule, source=source, key=f"{key}.{name}", base=base, extra_keys=("source", "holidays"))
        holidays = parse_holidays(rule.get("holidays"), source=source, key=f"{key}.{name}.holidays", check_names=not shipped)
        rules[name] = weekly.with_holidays(holidays)
    return rules


@lru_cache(maxsize=1)
def shipped_calling_hours() -> CallingHours:
    data = tomllib.loads(resources.files("callguard.hours").joinpath("data/calling_hours.toml").read_text("utf-8"))
    default = parse_weekly(data["default"], source=_SHIPPED_SOURCE, key="default", extra_keys=("source",))
    return CallingHours(
        default=default,
        countries=_scope_rules(
            data.get("countries", {}), source=_SHIPPED_SOURCE, key="countries", base=default, scope="countries", shipped=True
        ),
        us_states=_scope_rules(
            data.get("us_states", {}), source=_SHIPPED_SOURCE, key="us_states", base=default, scope="us_states", shipped=True
        ),
    )


def parse_calling_hours(table: Mapping[str, Any] | None, *, source: str) -> CallingHours:
    """The effective rules: the shipped ones with a policy's ``[calling_hours]`` table applied."""
    shipped = shipped_calling_hours()
    if table is None:
        return shipped
    allowed = ("default", "countries", "us_states", "holidays", "keep_shipped")
    for name in table:
        if name not in allowed:
            raise ConfigError(f"unknown key; allowed: {', '.join(allowed)}", source=source, key=f"calling_hours.{name}")
    keep = table.get("keep_shipped", True)
    if not isinstance(keep, bool):
        raise ConfigError("expected true or false", source=source, key="calling_hours.keep_shipped")
    holidays = parse_holidays(table.get("holidays"), source=source, key="calling_hours.holidays")
    default = shipped.default
    if "default" in table:
        default = parse_weekly(table["default"], source=source, key="calling_hours.default", base=default, extra_keys=("source",))
        if "source" not in table["default"]:
            default = WeeklyWindows(default.days, f"policy {source}", default.holidays)
    countries = dict(shipped.countries) if keep else {}
    states = dict(shipped.us_states) if keep else {}
    for scope, target in (("countries", countries), ("us_states", states)):
        sub = table.get(scope, {})
        if not isinstance(sub, dict):
            raise ConfigError("expected a table", source=source, key=f"calling_hours.{scope}")
        target.update(_scope_rules(sub, source=source, key=f"calling_hours.{scope}", base=default, scope=scope))

    def everywhere(rule: WeeklyWindows) -> WeeklyWindows:
        return rule.with_holidays(holidays)

    return CallingHours(
        default=everywhere(default),
        countries={k: everywhere(v) for k, v in countries.items()},
        us_states={k: everywhere(v) for k, v in states.items()},
    )


def parse_campaign_hours(table: Any, *, source: str, key: str) -> WeeklyWindows | None:
    """A campaign's own window, which narrows the legal one (their intersection applies)."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError("expected a table of windows", source=source, key=key)
    full_day = parse_weekly({"all": "00:00-24:00"}, source=source, key=key)
    weekly = parse_weekly(table, source=source, key=key, base=full_day, extra_keys=("holidays",))
    return WeeklyWindows(
        weekly.days, f"campaign window ({source})", parse_holidays(table.get("holidays"), source=source, key=f"{key}.holidays")
    )
