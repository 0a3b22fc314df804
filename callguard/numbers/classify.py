"""Facts about an E.164 number: where it is, what kind it is, when it is, what it risks.

Classification is pure and cached: a :class:`NumberClassifier` owns an LRU cache keyed by the
E.164 string, so a repeated destination costs a dictionary lookup. The risk category depends on
the policy's :class:`~callguard.numbers.risk.RiskTable`, so each policy gets its own classifier.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import phonenumbers
from cachetools import LRUCache
from phonenumbers import PhoneMetadata, PhoneNumberType
from phonenumbers import timezone as pn_timezone

from .risk import RiskCategory, RiskTable, shipped_risk_data

_TYPE_NAMES = {
    value: name.lower()
    for name, value in vars(PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}

NON_GEOGRAPHIC_REGION = "001"


def number_type_name(number_type: int) -> str:
    """``fixed_line``, ``mobile``, ``premium_rate`` … for a phonenumbers type."""
    return _TYPE_NAMES.get(number_type, "unknown")


@dataclass(frozen=True, slots=True)
class NumberInfo:
    """What callguard knows about one E.164 number.

    ``region`` is the ISO 3166-1 alpha-2 code, or None for numbers with no country
    (satellite, international networks, +800 …); ``geo_key`` is what dialing permissions are
    keyed by: the region, or ``+<country code>`` for those non-geographic numbers.
    """

    e164: str
    valid: bool
    region: str | None
    country_code: int
    number_type: int
    time_zones: tuple[str, ...]
    risk: RiskCategory  # the strictest of risk_categories
    internationally_dialable: bool
    risk_categories: tuple[RiskCategory, ...] = (RiskCategory.LOW_RISK,)  # every one it belongs to

    @property
    def geo_key(self) -> str:
        return self.region if self.region is not None else f"+{self.country_code}"

    @property
    def type_name(self) -> str:
        return number_type_name(self.number_type)


def _internationally_dialable(number: phonenumbers.PhoneNumber, region: str) -> bool:
    metadata = PhoneMetadata.metadata_for_region(region)
    no_intl = getattr(metadata, "no_international_dialling", None)
    if no_intl is None or not getattr(no_intl, "national_number_pattern", None):
        return True  # most regions list no such ranges; skip the pattern match
    return phonenumbers.can_be_internationally_dialled(number)


# time_zones_for_number() works out the number type a second time to choose between these two;
# we know the type already. tests/test_numbers.py checks the result equals phonenumbers' own.
_country_level_time_zones = getattr(pn_timezone, "_country_level_time_zones_for_number", None)


def _time_zones(number: phonenumbers.PhoneNumber, number_type: int) -> tuple[str, ...]:
    if phonenumbers.is_number_type_geographical(number_type, number.country_code or 0):
        zones = pn_timezone.time_zones_for_geographical_number(number)
    elif _country_level_time_zones is not None:
        zones = _country_level_time_zones(number)
    else:  # pragma: no cover - only with a phonenumbers that renamed its helper
        zones = pn_timezone.time_zones_for_number(number)
    return tuple(z for z in zones if z != "Etc/Unknown")


# phonenumbers.number_type() looks the region up again after region_code_for_number() found it,
# and for codes shared by several regions (+1, +7, +44 …) finding the region is itself a full
# type match: three pattern-matching passes where one does. _region_and_type() follows
# region_code_for_number() step for step but keeps the type it computes on the way. It uses
# phonenumbers' private type helper; if a release renames it, the public functions are used.
# tests/test_numbers.py checks both agree on every example number of every region.
_number_type_helper = getattr(phonenumbers.phonenumberutil, "_number_type_helper", None)
_leading_digits_res: dict[str, re.Pattern[str]] = {}


def _region_and_type(number: phonenumbers.PhoneNumber) -> tuple[str | None, int]:
    helper = _number_type_helper
    if helper is None:  # pragma: no cover - only with a phonenumbers that renamed its helper
        region = phonenumbers.region_code_for_number(number)
        return region, phonenumbers.number_type(number) if region is not None else PhoneNumberType.UNKNOWN
    country_code = number.country_code or 0  # a parsed number always has one
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if regions is None:
        return None, PhoneNumberType.UNKNOWN
    nsn = phonenumbers.national_significant_number(number)
    if len(regions) == 1:
        region = regions[0]
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
        return region, (helper(nsn, metadata) if metadata is not None else PhoneNumberType.UNKNOWN)
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            pattern = _leading_digits_res.get(metadata.leading_digits)
            if pattern is None:
                pattern = _leading_digits_res[metadata.leading_digits] = re.compile(metadata.leading_digits)
            if pattern.match(nsn):
                return region, helper(nsn, metadata)
        else:
            number_type = helper(nsn, metadata)
            if number_type != PhoneNumberType.UNKNOWN:
                return region, number_type
    return None, PhoneNumberType.UNKNOWN


def _classify(e164: str, risk_table: RiskTable, number: phonenumbers.PhoneNumber | None) -> NumberInfo:
    if number is None:
        try:
            number = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            return NumberInfo(e164, False, None, 0, PhoneNumberType.UNKNOWN, (), RiskCategory.LOW_RISK, False)
    region, number_type = _region_and_type(number)
    valid = number_type != PhoneNumberType.UNKNOWN
    if region is None:
        # Invalid, but the calling code may still name a country: keep it for messages.
        region = phonenumbers.region_code_for_country_code(number.country_code or 0)
        if region == "ZZ":
            region = None
    if region == NON_GEOGRAPHIC_REGION:
        region = None
    time_zones = _time_zones(number, number_type) if valid else ()
    dialable = valid and (region is None or _internationally_dialable(number, region))
    categories = risk_table.categories(e164, number_type)
    return NumberInfo(
        e164=e164,
        valid=valid,
        region=region,
        country_code=number.country_code or 0,
        number_type=number_type,
        time_zones=time_zones,
        risk=categories[-1],
        internationally_dialable=dialable,
        risk_categories=categories,
    )


class NumberClassifier:
    """Classifies E.164 numbers against one risk table, with an LRU cache."""

    def __init__(self, risk_table: RiskTable | None = None, *, cache_size: int = 100_000) -> None:
        self.risk_table = risk_table if risk_table is not None else shipped_risk_data().table
        self._cache: LRUCache[str, NumberInfo] = LRUCache(maxsize=cache_size)
        self._lock = threading.Lock()

    def classify(self, e164: str, number: phonenumbers.PhoneNumber | None = None) -> NumberInfo:
        """Classify ``e164``; pass the parsed ``number`` when you have it to skip a parse."""
        with self._lock:
            info = self._cache.get(e164)  # .get: a miss through [] raises and catches KeyError twice
        if info is None:
            info = _classify(e164, self.risk_table, number)
            with self._lock:
                self._cache[e164] = info
        return info

    __call__ = classify


_default_classifier: NumberClassifier | None = None


def classify_number(e164: str) -> NumberInfo:
    """Classify with the shipped risk table (policy-specific classifiers live on the Guard)."""
    global _default_classifier
    if _default_classifier is None:
        _default_classifier = NumberClassifier()
    return _default_classifier.classify(e164)
