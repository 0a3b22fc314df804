"""Twilio's risk categories and the prefix table that assigns them.

A number belongs to every category that claims it: the one of the longest matching prefix in
the :class:`RiskTable`, and ``high_risk_special`` when its phonenumbers type is a special
service (premium rate, shared cost, UAN, personal number); a shared-cost number inside a
toll-fraud-listed range is both, and calling it needs both enabled. A number nothing claims is
``low_risk``. A prefix mapped to ``low_risk`` is how a policy takes a range out of a shipped
list: it makes the range low-risk only, whatever its type.
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources

from phonenumbers import PhoneNumberType

from ..errors import ConfigError


class RiskCategory(enum.StrEnum):
    """Twilio's Voice Dialing Permissions number groups, in the order Twilio's console lists them
    (also the order a number's categories are checked in)."""

    LOW_RISK = "low_risk"
    HIGH_RISK_SPECIAL = "high_risk_special"
    HIGH_RISK_TOLLFRAUD = "high_risk_tollfraud"

    def __str__(self) -> str:
        return self.value


SPECIAL_SERVICE_TYPES = frozenset(
    {
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.UAN,
        PhoneNumberType.PERSONAL_NUMBER,
    }
)


@dataclass(frozen=True)
class RiskPrefix:
    prefix: str
    category: RiskCategory
    source: str


def validate_e164_prefix(value: object) -> str | None:
    """Return why ``value`` is not an E.164 prefix ("+" then 1 to 15 digits), or None."""
    if not isinstance(value, str):
        return f"expected a string like \"+2474\", got {value!r}"
    if not (value.startswith("+") and value[1:].isdigit() and value[1:].isascii() and 1 <= len(value) - 1 <= 15):
        return f"{value!r} is not an E.164 prefix (\"+\" then 1 to 15 digits)"
    if value[1] == "0":
        return f"{value!r} is not an E.164 prefix: no country calling code starts with 0"
    return None


@dataclass(frozen=True)
class RiskTable:
    """Longest-prefix lookup from E.164 numbers to risk categories."""

    entries: tuple[RiskPrefix, ...] = ()
    _by_prefix: Mapping[str, RiskCategory] = field(init=False, repr=False, compare=False)
    _lengths: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_prefix = {e.prefix: e.category for e in self.entries}
        object.__setattr__(self, "_by_prefix", by_prefix)
        object.__setattr__(self, "_lengths", tuple(sorted({len(p) for p in by_prefix}, reverse=True)))

    def prefix_category(self, e164: str) -> RiskCategory | None:
        """The category of the longest listed prefix of ``e164``, or None."""
        by_prefix = self._by_prefix
        for length in self._lengths:
            if length <= len(e164):
                category = by_prefix.get(e164[:length])
                if category is not None:
                    return category
        return None

    def categories(self, e164: str, number_type: int) -> tuple[RiskCategory, ...]:
        """Every category ``e164`` belongs to, in :class:`RiskCategory`'s order (never empty)."""
        listed = self.prefix_category(e164)
        if listed is RiskCategory.LOW_RISK:
            return (listed,)
        claimed = {listed} if listed is not None else set()
        if number_type in SPECIAL_SERVICE_TYPES:
            claimed.add(RiskCategory.HIGH_RISK_SPECIAL)
        return tuple(c for c in RiskCategory if c in claimed) or (RiskCategory.LOW_RISK,)

    def category(self, e164: str, number_type: int) -> RiskCategory:
        """The strictest of :meth:`categories` (toll fraud, then special services, then low risk)."""
        return self.categories(e164, number_type)[-1]

    def with_overrides(self, overrides: Iterable[RiskPrefix], *, keep_shipped: bool = True) -> RiskTable:
        """A table with ``overrides`` replacing or adding to (or, without ``keep_shipped``, replacing) these entries."""
        merged: dict[str, RiskPrefix] = {e.prefix: e for e in self.entries} if keep_shipped else {}
        for entry in overrides:
            merged[entry.prefix] = entry
        return RiskTable(tuple(merged.values()))


@dataclass(frozen=True)
class ShippedRiskData:
    table: RiskTable
    direct_request_countries: frozenset[str]


_SHIPPED: ShippedRiskData | None = None


def shipped_risk_data() -> ShippedRiskData:
    """The risk prefixes and direct-request countries shipped in ``data/risk_prefixes.toml``."""
    global _SHIPPED
    if _SHIPPED is None:
        source = "callguard/numbers/data/risk_prefixes.toml"
        text = resources.files("callguard.numbers").joinpath("data/risk_prefixes.toml").read_text("utf-8")
        data = tomllib.loads(text)
        entries = []
        for index, item in enumerate(data.get("prefix", [])):
            problem = validate_e164_prefix(item.get("prefix"))
            if problem:
                raise ConfigError(problem, source=source, key=f"prefix[{index}].prefix")
            entries.append(RiskPrefix(item["prefix"], RiskCategory(item["category"]), item["source"]))
        _SHIPPED = ShippedRiskData(RiskTable(tuple(entries)), frozenset(data["direct_request_countries"]))
    return _SHIPPED
