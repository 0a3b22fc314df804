"""A number given by a person or a file, as the E.164 number it names — if it is a valid one."""

from __future__ import annotations

from .classify import classify_number
from .dialstring import TargetKind, normalize_dial_string


def valid_e164(raw: str, region: str) -> str | None:
    """``raw`` (any format: ``(415) 555-0123``, ``+1 415 …``, ``tel:``) read with ``region``, as a
    valid E.164 number; None when it is not a valid phone number."""
    target = normalize_dial_string(raw, default_region=region, emergency_regions=())
    if target.kind is not TargetKind.PSTN or target.e164 is None or not classify_number(target.e164).valid:
        return None
    return target.e164
