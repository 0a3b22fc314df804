"""How often a telemarketing call may reach one consumer, by the callee's country or US state.

Shipped in ``data/contact_limits.toml``, each rule naming its source: a frequency limit (at most
N calls within a window, counted by the traffic admission across the account family, see
:class:`~callguard.traffic.frequency.CalleeFrequencyRule`) and a quiet period after the consumer
refuses (an opt-out of any scope; the opt-out check refuses ``dnc.refused_recently``). As for
calling hours, a US number's rule is its state's, found by area code, else its country's.

A policy's ``[contact_limits]`` table changes the shipped rules scope by scope
(:func:`parse_contact_limits`): a country or state entry replaces the shipped one, ``false``
removes it, ``keep_shipped = false`` starts from none. The checks read the result from the
policy (``Policy.contact_limits``).
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import phonenumbers

from ..errors import ConfigError
from ..numbers.classify import NumberInfo
from ..traffic.counters import MAX_WINDOW
from ..traffic.frequency import CalleeFrequencyRule, in_words
from ..traffic.policy import parse_duration
from .rules import us_area_code_states, us_state

_SHIPPED_SOURCE = "callguard/hours/data/contact_limits.toml"
_KEYS = ("max_calls", "within", "after_refusal", "law", "source")
_POLICY_KEYS = ("keep_shipped", "countries", "us_states")
_SCOPE_LABELS = {"countries": "country", "us_states": "US state"}


@dataclass(frozen=True)
class ContactLimit:
    where: str  # "country FR", "US state FL"
    law: str
    source: str
    frequency: CalleeFrequencyRule | None = None
    after_refusal: float | None = None  # seconds without calls after the consumer refused

    def quiet_period(self) -> str:
        """``after_refusal`` in words ("60 days"); empty when there is none."""
        return in_words(self.after_refusal) if self.after_refusal is not None else ""


@dataclass(frozen=True)
class ContactLimits:
    countries: Mapping[str, ContactLimit] = field(default_factory=dict)
    us_states: Mapping[str, ContactLimit] = field(default_factory=dict)

    def for_number(self, info: NumberInfo) -> ContactLimit | None:
        """The limit of ``info``'s US state (by area code), else of its country; None if neither has one."""
        state = us_state(info)
        if state is not None and state in self.us_states:
            return self.us_states[state]
        return self.countries.get(info.region) if info.region is not None else None


def _unknown_key(name: str, allowed: tuple[str, ...], *, source: str, key: str) -> ConfigError:
    starts = [a for a in allowed if a.startswith(name)]
    hint = starts[:1] if len(starts) == 1 else difflib.get_close_matches(name, allowed, n=1)
    suggestion = f" (did you mean {hint[0]!r}?)" if hint else f"; allowed: {', '.join(allowed)}"
    return ConfigError(f"unknown key{suggestion}", source=source, key=key)


def _limit(where: str, table: Any, *, source: str, key: str, default_source: str = "") -> ContactLimit:
    if not isinstance(table, dict):
        raise ConfigError("expected a table", source=source, key=key)
    for name in table:
        if name not in _KEYS:
            raise _unknown_key(name, _KEYS, source=source, key=f"{key}.{name}")
    law = table.get("law")
    if not isinstance(law, str) or not law.strip():
        raise ConfigError("expected the law's short name, said in refusals", source=source, key=f"{key}.law")
    text = table.get("source", default_source)
    if not isinstance(text, str):
        raise ConfigError(f"expected a string, got {text!r}", source=source, key=f"{key}.source")
    if ("max_calls" in table) != ("within" in table):
        raise ConfigError("give max_calls and within together", source=source, key=key)
    if "max_calls" not in table and "after_refusal" not in table:
        raise ConfigError("expected max_calls and within, after_refusal, or both", source=source, key=key)
    frequency = None
    if "max_calls" in table:
        max_calls = table["max_calls"]
        if isinstance(max_calls, bool) or not isinstance(max_calls, int) or max_calls < 1:
            raise ConfigError(f"expected a whole number of at least 1, got {max_calls!r}", source=source, key=f"{key}.max_calls")
        window = parse_duration(table["within"], source=source, key=f"{key}.within")
        if window > MAX_WINDOW:
            raise ConfigError(
                f"calls are counted over at most {MAX_WINDOW / 86_400:g} days, got {table['within']!r}", source=source, key=f"{key}.within"
            )
        frequency = CalleeFrequencyRule(max_calls, window, where, law)
    after = table.get("after_refusal")
    return ContactLimit(
        where, law, text, frequency,
        parse_duration(after, source=source, key=f"{key}.after_refusal") if after is not None else None,
    )


def _check_scope_name(scope: str, name: str, *, source: str, key: str) -> None:
    if scope == "countries" and name not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"{name!r} is not a region phonenumbers knows", source=source, key=key)
    if scope == "us_states" and name not in set(us_area_code_states().values()):
        raise ConfigError(f"{name!r} is not a two-letter US state (or DC) code", source=source, key=key)


@lru_cache(maxsize=1)
def shipped_contact_limits() -> ContactLimits:
    text = resources.files("callguard.hours").joinpath("data/contact_limits.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return ContactLimits(
        countries={k: _limit(f"country {k}", v, source=_SHIPPED_SOURCE, key=f"countries.{k}") for k, v in data["countries"].items()},
        us_states={k: _limit(f"US state {k}", v, source=_SHIPPED_SOURCE, key=f"us_states.{k}") for k, v in data["us_states"].items()},
    )


def parse_contact_limits(table: Mapping[str, Any] | None, *, source: str) -> ContactLimits:
    """The effective limits: the shipped ones with a policy's ``[contact_limits]`` table applied."""
    shipped = shipped_contact_limits()
    if table is None:
        return shipped
    for name in table:
        if name not in _POLICY_KEYS:
            raise _unknown_key(name, _POLICY_KEYS, source=source, key=f"contact_limits.{name}")
    keep = table.get("keep_shipped", True)
    if not isinstance(keep, bool):
        raise ConfigError(f"expected true or false, got {keep!r}", source=source, key="contact_limits.keep_shipped")
    scopes = {"countries": dict(shipped.countries) if keep else {}, "us_states": dict(shipped.us_states) if keep else {}}
    for scope, limits in scopes.items():
        entries = table.get(scope, {})
        if not isinstance(entries, dict):
            raise ConfigError("expected a table", source=source, key=f"contact_limits.{scope}")
        for name, entry in entries.items():
            key = f"contact_limits.{scope}.{name}"
            _check_scope_name(scope, name, source=source, key=key)
            if entry is False:
                limits.pop(name, None)
                continue
            if not isinstance(entry, dict):
                raise ConfigError("expected a table, or false to remove the shipped limit", source=source, key=key)
            limits[name] = _limit(f"{_SCOPE_LABELS[scope]} {name}", entry, source=source, key=key, default_source=f"policy {source}")
    return ContactLimits(countries=scopes["countries"], us_states=scopes["us_states"])
