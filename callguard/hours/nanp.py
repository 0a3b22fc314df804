"""The shipped NANP time-zone table: every zone each area code (and some exchanges) can be in.

phonenumbers gives many split NANP area codes one zone (Florida's 850: New York only, though
Pensacola keeps Central time). ``data/nanp_zones.toml``, written by
``scripts/generate_nanp_zones.py`` from phonenumbers' data and sourced corrections, lists every
zone of each geographic area code, and of the exchanges (NPA-NXX) of split area codes whose
place is known. It is read once, on first use.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class NanpZoneTable:
    """Area code (``"850"``) and exchange (``"850432"``) -> zone names."""

    npa: Mapping[str, tuple[str, ...]]
    npa_nxx: Mapping[str, tuple[str, ...]]

    def zones_for(self, national: str) -> tuple[str, ...]:
        """The zones of a national number's exchange row, else its area code's (empty when neither)."""
        return self.npa_nxx.get(national[:6]) or self.npa.get(national[:3], ())


@lru_cache(maxsize=1)
def nanp_zone_table() -> NanpZoneTable:
    data = tomllib.loads(resources.files("callguard.hours").joinpath("data/nanp_zones.toml").read_text("utf-8"))
    return NanpZoneTable(
        npa={key: tuple(row["zones"]) for key, row in data["npa"].items()},
        npa_nxx={key: tuple(row["zones"]) for key, row in data["npa_nxx"].items()},
    )
