"""The time zones a number's callee may be in, as ``ZoneInfo`` objects.

phonenumbers answers "every time zone it can be in"; for types it does not treat as
geographic (mobiles in most countries) that is every zone of the calling code, which for a
code shared by several countries (+1, +7, +44 …) includes other countries' zones: a Jamaican
mobile would get every zone from Hawaii to Newfoundland. For shared codes this keeps only the
zones phonenumbers gives the prefixes of the number's own region (a Russian mobile keeps every
zone of Russia's), so the answer is never narrower than the country. Zone names phonenumbers
gets wrong for a region are corrected (:data:`_MISNAMED`).

For NANP numbers (+1), where phonenumbers often gives a split area code one zone, the zones of
the shipped NANP table (:mod:`callguard.hours.nanp`: the exchange's row, else the area code's)
are added to phonenumbers' own; the window must hold in all of them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import PhoneMetadata
from phonenumbers.tzdata import TIMEZONE_DATA

from ..loggers import get_logger
from ..numbers.classify import NumberInfo
from .nanp import nanp_zone_table

log = get_logger("callguard.hours")


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("time zone %r from phonenumbers is unknown to zoneinfo; ignored", name)
        return None


def _leading_digits(region: str) -> re.Pattern[str] | None:
    metadata = PhoneMetadata.metadata_for_region(region)
    pattern = getattr(metadata, "leading_digits", None)
    return re.compile(pattern) if pattern else None


@lru_cache(maxsize=512)
def region_zones(region: str, country_code: int) -> frozenset[str]:
    """Every zone phonenumbers gives to some prefix of ``region`` within its shared calling code.

    A region other than the code's main one is recognised by its metadata's leading digits
    (Jamaica: 876 and 658 within +1); the main region owns every prefix no other region claims.
    """
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    own = _leading_digits(region)
    others = [p for p in (_leading_digits(r) for r in regions if r != region) if p is not None]
    code = str(country_code)
    zones: set[str] = set()
    for prefix, names in TIMEZONE_DATA.items():
        if not prefix.startswith(code) or len(prefix) == len(code):
            continue
        rest = prefix[len(code) :]
        belongs = own.match(rest) is not None if own is not None else not any(p.match(rest) for p in others)
        if belongs:
            zones.update(n for n in names if n != "Etc/Unknown")
    return frozenset(zones)


# Zones phonenumbers names wrongly for a region. It gives Kaliningrad (+7 401…) Europe/Bucharest,
# which is an hour ahead of Kaliningrad in summer: 07:30 there would pass as 08:30.
_MISNAMED = {("RU", "Europe/Bucharest"): "Europe/Kaliningrad"}


@lru_cache(maxsize=65_536)
def _zone_names(region: str | None, country_code: int, zones: tuple[str, ...]) -> tuple[str, ...]:
    if region is not None and len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())) >= 2:
        own = region_zones(region, country_code)
        zones = tuple(z for z in zones if z in own) or zones
    return tuple(_MISNAMED.get((region or "", z), z) for z in zones)


@lru_cache(maxsize=65_536)
def _nanp_names(exchange: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """phonenumbers' zones for a +1 number, then the NANP table's others for its exchange (NPA-NXX)."""
    return names + tuple(z for z in nanp_zone_table().zones_for(exchange) if z not in names)


@lru_cache(maxsize=4096)
def _zones(names: tuple[str, ...]) -> tuple[ZoneInfo, ...]:
    return tuple(z for z in map(_zone, names) if z is not None)


def callee_zones(info: NumberInfo) -> tuple[ZoneInfo, ...]:
    """Every time zone the callee of ``info`` can be in (empty when unknown)."""
    names = _zone_names(info.region, info.country_code, info.time_zones)
    if info.country_code == 1:
        names = _nanp_names(info.e164[2:8], names)
    return _zones(names)
