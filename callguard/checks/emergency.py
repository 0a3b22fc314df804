"""Emergency numbers always connect, whatever the account, policy or caller ID."""

from __future__ import annotations

from ..decision import Allow
from ..numbers.dialstring import TargetKind
from .context import DialContext, Outcome


def check_emergency(ctx: DialContext) -> Outcome:
    if ctx.target.kind is TargetKind.EMERGENCY:
        return Allow("emergency", f"{ctx.target.digits} is an emergency number: emergency calls always connect.")
    return None
