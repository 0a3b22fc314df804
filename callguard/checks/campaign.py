"""Refuse calls that name a campaign the policy does not define: its compliance rules are unknown."""

from __future__ import annotations

from ..decision import Refusal
from .context import SKIP, DialContext, Outcome


def check_campaign(ctx: DialContext) -> Outcome:
    if ctx.campaign_id is None:
        return SKIP
    if ctx.campaign is None:
        return Refusal(
            "campaign",
            "campaign.unknown",
            f"The call names campaign {ctx.campaign_id!r}, which the policy does not define, so its rules cannot be applied.",
        )
    return None
