"""Emergency numbers always connect, whatever the account, policy or caller ID."""

from __future__ import annotations

from ..decision import Allow
from ..numbers.dialstring import TargetKind
from .context import DialContext, Outcome

# Bound once: on Python 3.11 an enum member read through its class costs EnumType's __getattr__ hook.
_EMERGENCY = TargetKind.EMERGENCY


def check_emergency(ctx: DialContext) -> Outcome:
    if ctx.target.kind is _EMERGENCY:
        return Allow("emergency", f"{ctx.target.digits} is an emergency number: emergency calls always connect.")
    return None
