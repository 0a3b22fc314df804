"""How often a telemarketing call may reach one consumer, by the callee's country or US state.

Shipped in ``data/contact_limits.toml``, each rule naming its source: a frequency limit (at most
N calls within a window, counted by the traffic admission across the account family, see
:class:`~callguard.traffic.frequency.CalleeFrequencyRule`) and a quiet period after the consumer
refuses (an opt-out of any scope; the opt-out check refuses ``dnc.refused_recently``). As for
calling hours, a US number's rule is its state's, found by area code, else its country's.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from ..errors import ConfigError
from ..numbers.classify import NumberInfo
from ..traffic.frequency import CalleeFrequencyRule
from ..traffic.policy import parse_duration
from .rules import us_area_code_states

_SHIPPED_SOURCE = "callguard/hours/data/contact_limits.toml"
_KEYS = ("max_calls", "within", "after_refusal", "law", "source")


@dataclass(frozen=True)
class ContactLimit:
    where: str  # "country FR", "US state FL"
    law: str
    source: str
    frequency: CalleeFrequencyRule | None = None
    after_refusal: float | None = None  # seconds without calls after the consumer refused


@dataclass(frozen=True)
class ContactLimits:
    countries: Mapping[str, ContactLimit] = field(default_factory=dict)
    us_states: Mapping[str, ContactLimit] = field(default_factory=dict)

    def for_number(self, info: NumberInfo) -> ContactLimit | None:
        """The limit of ``info``'s US state (by area code), else of its country; None if neither has one."""
        region = info.region
        if region == "US":
            state = us_area_code_states().get(info.e164[2:5])
            if state is not None and state in self.us_states:
                return self.us_states[state]
        return self.countries.get(region) if region is not None else None


def _limit(where: str, table: Any, *, source: str, key: str) -> ContactLimit:
    if not isinstance(table, dict):
        raise ConfigError("expected a table", source=source, key=key)
    unknown = [k for k in table if k not in _KEYS]
    if unknown:
        raise ConfigError(f"unknown key; allowed: {', '.join(_KEYS)}", source=source, key=f"{key}.{unknown[0]}")
    law = table.get("law")
    if not isinstance(law, str) or not law:
        raise ConfigError("expected the law's short name", source=source, key=f"{key}.law")
    frequency = None
    if ("max_calls" in table) != ("within" in table):
        raise ConfigError("give max_calls and within together", source=source, key=key)
    if "max_calls" in table:
        max_calls = table["max_calls"]
        if isinstance(max_calls, bool) or not isinstance(max_calls, int) or max_calls < 1:
            raise ConfigError(f"expected a whole number of at least 1, got {max_calls!r}", source=source, key=f"{key}.max_calls")
        window = parse_duration(table["within"], source=source, key=f"{key}.within")
        try:
            frequency = CalleeFrequencyRule(max_calls, window, where, law)
        except ValueError as exc:
            raise ConfigError(str(exc), source=source, key=f"{key}.within") from None
    after = table.get("after_refusal")
    return ContactLimit(
        where, law, str(table.get("source", "")), frequency,
        parse_duration(after, source=source, key=f"{key}.after_refusal") if after is not None else None,
    )


@lru_cache(maxsize=1)
def shipped_contact_limits() -> ContactLimits:
    text = resources.files("callguard.hours").joinpath("data/contact_limits.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return ContactLimits(
        countries={k: _limit(f"country {k}", v, source=_SHIPPED_SOURCE, key=f"countries.{k}") for k, v in data["countries"].items()},
        us_states={k: _limit(f"US state {k}", v, source=_SHIPPED_SOURCE, key=f"us_states.{k}") for k, v in data["us_states"].items()},
    )
