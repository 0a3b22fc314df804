"""The ``[traffic]`` policy: rate, concurrency, caller-ID answer ratio and call length, velocity
triggers, per-callee limits and complaint thresholds.

A table may appear at the top level (every account), under an account (inherited by its
subaccounts) and under a campaign (applied over the calling account's). Each level changes
only the keys it names; ``false`` removes an inherited limit. Durations are ``"90s"``,
``"10m"``, ``"1h"``, ``"7d"`` or a number of seconds.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers

from ..errors import ConfigError
from ..numbers.risk import validate_e164_prefix
from .complaints import MAX_COMPLAINT_WINDOW, ComplaintLimits, ComplaintRule
from .counters import MAX_WINDOW

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d)")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class UnansweredRule:
    """Throttle a caller ID whose answer ratio over its last ``last`` completed attempts (within
    ``window``) falls below ``min_answer_ratio``, once it has at least ``min_attempts``."""

    last: int = 100
    window: float = 86_400.0
    min_attempts: int = 20
    min_answer_ratio: float = 0.25
    cooldown: float = 3_600.0


@dataclass(frozen=True)
class ShortCallsRule:
    """Throttle a caller ID whose answered calls (its last ``last`` within ``window``, once there
    are ``min_answered``) average under ``min_average_seconds``."""

    last: int = 50
    window: float = 86_400.0
    min_answered: int = 10
    min_average_seconds: float = 15.0
    cooldown: float = 3_600.0


@dataclass(frozen=True)
class VelocityRule:
    """More than ``max_calls`` attempts to ``target`` within ``window`` blocks it for ``block_for``."""

    target: str  # an E.164 prefix ("+371") or a region ("LV")
    by_region: bool
    max_calls: int
    window: float
    block_for: float
    suspend_account: bool = False

    def matches(self, e164: str, region: str | None) -> bool:
        return region == self.target if self.by_region else e164.startswith(self.target)


@dataclass(frozen=True)
class TrafficPolicy:
    cps: int | None = None
    concurrent: int | None = None
    max_calls_per_callee_per_day: int | None = None
    home_region: str | None = None
    max_call_seconds: float = 4 * 3600.0
    unanswered: UnansweredRule | None = None
    short_calls: ShortCallsRule | None = None
    velocity: tuple[VelocityRule, ...] = ()
    complaints: ComplaintLimits | None = None

    @functools.cached_property  # read for every decision and every policed answer
    def enabled(self) -> bool:
        return bool(
            self.cps or self.concurrent or self.max_calls_per_callee_per_day or self.unanswered or self.short_calls
            or self.velocity or self.home_region or self.complaints
        )


NO_TRAFFIC_LIMITS = TrafficPolicy()

_KEYS = (
    "cps", "concurrent", "max_calls_per_callee_per_day", "home_region", "max_call_seconds", "unanswered", "short_calls", "velocity",
    "alerts", "complaints",
)


def _error(source: str, key: str, problem: str) -> ConfigError:
    return ConfigError(problem, source=source, key=key)


def _check_keys(table: Mapping[str, Any], allowed: tuple[str, ...], source: str, key: str) -> None:
    for name in table:
        if name not in allowed:
            hint = difflib.get_close_matches(name, allowed, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else f"; allowed: {', '.join(allowed)}"
            raise _error(source, f"{key}.{name}", f"unknown key{suggestion}")


def parse_duration(value: Any, *, source: str, key: str) -> float:
    if isinstance(value, bool):
        raise _error(source, key, f"expected a duration such as \"10m\", got {value!r}")
    if isinstance(value, (int, float)) and value > 0:
        return float(value)
    if isinstance(value, str):
        match = _DURATION.fullmatch(value.strip())
        if match:
            return float(match.group(1)) * _UNITS[match.group(2)]
    raise _error(source, key, f"expected a duration such as \"90s\", \"10m\", \"1h\" or \"7d\", got {value!r}")


def _window(value: Any, *, source: str, key: str) -> float:
    seconds = parse_duration(value, source=source, key=key)
    if seconds > MAX_WINDOW:
        raise _error(source, key, f"a window is at most {MAX_WINDOW / 86_400:g} days, got {value!r}")
    return seconds


def _limit(value: Any, *, source: str, key: str) -> int | None:
    if value is False:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _error(source, key, f"expected a whole number of at least 1 (or false for no limit), got {value!r}")
    return value


def _positive(value: Any, *, source: str, key: str, whole: bool = False, at_most: float | None = None) -> Any:
    ok = isinstance(value, int) if whole else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or value <= 0 or (at_most is not None and value > at_most):
        bound = f" and at most {at_most}" if at_most is not None else ""
        raise _error(source, key, f"expected a {'whole ' if whole else ''}number above 0{bound}, got {value!r}")
    return value


def _rule(table: Any, base: Any, fields: dict[str, str], *, source: str, key: str) -> Any:
    if table is False:
        return None
    if not isinstance(table, dict):
        raise _error(source, key, "expected a table (or false to turn the rule off)")
    _check_keys(table, tuple(fields), source, key)
    values = dataclasses.asdict(base) if base is not None else {}
    for name, kind in fields.items():
        if name not in table:
            continue
        raw, where = table[name], f"{key}.{name}"
        if kind == "duration":
            values[name] = parse_duration(raw, source=source, key=where)
        elif kind == "count":
            values[name] = _positive(raw, source=source, key=where, whole=True)
        elif kind == "ratio":
            values[name] = float(_positive(raw, source=source, key=where, at_most=1.0))
        else:
            values[name] = float(_positive(raw, source=source, key=where))
    return values


def _velocity(items: Any, *, source: str, key: str) -> tuple[VelocityRule, ...]:
    if items is False:
        return ()
    if not isinstance(items, list):
        raise _error(source, key, "expected an array of tables ([[traffic.velocity]])")
    rules: list[VelocityRule] = []
    for index, item in enumerate(items):
        where = f"{key}[{index}]"
        if not isinstance(item, dict):
            raise _error(source, where, "expected a table")
        _check_keys(item, ("prefix", "country", "max_calls", "window", "block_for", "suspend_account"), source, where)
        if ("prefix" in item) == ("country" in item):
            raise _error(source, where, "give exactly one of prefix (\"+371\") or country (\"LV\")")
        if "prefix" in item:
            problem = validate_e164_prefix(item["prefix"])
            if problem:
                raise _error(source, f"{where}.prefix", problem)
            target, by_region = item["prefix"], False
        else:
            target, by_region = item["country"], True
            if target not in phonenumbers.SUPPORTED_REGIONS:
                raise _error(source, f"{where}.country", f"{target!r} is not a region phonenumbers knows")
        for required in ("max_calls", "window", "block_for"):
            if required not in item:
                raise _error(source, f"{where}.{required}", "missing")
        suspend = item.get("suspend_account", False)
        if not isinstance(suspend, bool):
            raise _error(source, f"{where}.suspend_account", "expected true or false")
        rule = VelocityRule(
            target=target,
            by_region=by_region,
            max_calls=_positive(item["max_calls"], source=source, key=f"{where}.max_calls", whole=True),
            window=_window(item["window"], source=source, key=f"{where}.window"),
            block_for=parse_duration(item["block_for"], source=source, key=f"{where}.block_for"),
            suspend_account=suspend,
        )
        # A rule's calls are counted under its target and window: two rules may not share both.
        twin = next((i for i, other in enumerate(rules) if (other.target, other.window) == (rule.target, rule.window)), None)
        if twin is not None:
            raise _error(source, f"{where}.window", f"{key}[{twin}] already counts calls to {target} over {rule.window:g} s")
        rules.append(rule)
    return tuple(rules)


def parse_traffic(
    table: Mapping[str, Any] | None, *, source: str, key: str, inherited: TrafficPolicy = NO_TRAFFIC_LIMITS, top_level: bool = False
) -> TrafficPolicy:
    """``inherited`` with the keys ``table`` names changed (``alerts`` only at the top level)."""
    if table is None:
        return inherited
    if not isinstance(table, dict):
        raise _error(source, key, "expected a table")
    _check_keys(table, _KEYS if top_level else tuple(k for k in _KEYS if k != "alerts"), source, key)
    changes: dict[str, Any] = {}
    for name in ("cps", "concurrent", "max_calls_per_callee_per_day"):
        if name in table:
            changes[name] = _limit(table[name], source=source, key=f"{key}.{name}")
    if "home_region" in table:
        value = table["home_region"]
        if value is not False and (not isinstance(value, str) or not re.fullmatch(r"[a-z0-9-]{1,32}", value)):
            raise _error(source, f"{key}.home_region", "expected a deployment region name such as \"us1\" (or false)")
        changes["home_region"] = value or None
    if "max_call_seconds" in table:
        changes["max_call_seconds"] = parse_duration(table["max_call_seconds"], source=source, key=f"{key}.max_call_seconds")
    if "unanswered" in table:
        fields = {"last": "count", "window": "duration", "min_attempts": "count", "min_answer_ratio": "ratio", "cooldown": "duration"}
        values = _rule(table["unanswered"], inherited.unanswered or UnansweredRule(), fields, source=source, key=f"{key}.unanswered")
        changes["unanswered"] = UnansweredRule(**values) if values is not None else None
    if "short_calls" in table:
        fields = {"last": "count", "window": "duration", "min_answered": "count", "min_average_seconds": "seconds", "cooldown": "duration"}
        values = _rule(table["short_calls"], inherited.short_calls or ShortCallsRule(), fields, source=source, key=f"{key}.short_calls")
        changes["short_calls"] = ShortCallsRule(**values) if values is not None else None
    if "velocity" in table:
        changes["velocity"] = _velocity(table["velocity"], source=source, key=f"{key}.velocity")
    if "complaints" in table:
        changes["complaints"] = _complaints(table["complaints"], inherited.complaints, source=source, key=f"{key}.complaints")
    return dataclasses.replace(inherited, **changes)


def parse_alerts(table: Any, *, source: str) -> str | None:
    """The alert webhook URL of ``[traffic.alerts]``, if any."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise _error(source, "traffic.alerts", "expected a table")
    _check_keys(table, ("webhook",), source, "traffic.alerts")
    url = table.get("webhook")
    if url is not None and (not isinstance(url, str) or not re.fullmatch(r"https?://\S+", url)):
        raise _error(source, "traffic.alerts.webhook", f"{url!r} is not an http(s) URL")
    return url


def _complaints(table: Any, inherited: ComplaintLimits | None, *, source: str, key: str) -> ComplaintLimits | None:
    """``[traffic.complaints]``: ``caller_id`` and ``campaign`` rules of ``max``, ``window`` and
    ``cooldown``, each changed key by key over the inherited one (``false`` removes it)."""
    if table is False:
        return None
    if not isinstance(table, dict):
        raise _error(source, key, "expected a table (or false to turn the complaint thresholds off)")
    _check_keys(table, ("caller_id", "campaign"), source, key)
    current = inherited or ComplaintLimits()
    changes: dict[str, ComplaintRule | None] = {}
    for scope in ("caller_id", "campaign"):
        if scope not in table:
            continue
        where = f"{key}.{scope}"
        fields = {"max": "count", "window": "duration", "cooldown": "duration"}
        values = _rule(table[scope], getattr(current, scope), fields, source=source, key=where)
        if values is None:
            changes[scope] = None
            continue
        for required in ("max", "window"):
            if required not in values:
                raise _error(source, f"{where}.{required}", "missing")
        if values["window"] > MAX_COMPLAINT_WINDOW:
            raise _error(
                source, f"{where}.window", f"a window is at most {MAX_COMPLAINT_WINDOW / 86_400:g} days, got {table[scope]['window']!r}"
            )
        changes[scope] = ComplaintRule(**values)
    limits = dataclasses.replace(current, **changes)
    return limits if limits.caller_id is not None or limits.campaign is not None else None
