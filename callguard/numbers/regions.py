"""English names of regions, for the sentences decisions carry.

The names come from ``data/region_names.toml`` (generated from phonenumbers' locale table by
``scripts/generate_region_names.py``), because importing that table costs ~100 MB a process.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    text = resources.files("callguard.numbers").joinpath("data/region_names.toml").read_text("utf-8")
    return dict(tomllib.loads(text)["names"])


def region_name(region: str | None, country_code: int | None = None) -> str:
    """``United Kingdom (GB)``; for non-geographic numbers ``international network +882``."""
    if region is None:
        return f"non-geographic code +{country_code}" if country_code else "an unknown country"
    return f"{_names().get(region, region)} ({region})"
