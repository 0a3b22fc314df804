"""Telemarketing only: the callee's local time, in every zone the number can be in, must be inside
the calling window of its country or US state (narrowed by the campaign's own window)."""

from __future__ import annotations

from datetime import datetime

from ..decision import Refusal
from ..errors import MissingExtra
from ..hours.zones import callee_zones
from .context import SKIP, DialContext, Outcome


def check_hours(ctx: DialContext) -> Outcome:
    if not ctx.telemarketing_number:
        return SKIP
    info, campaign = ctx.info, ctx.campaign
    assert info is not None and campaign is not None
    zones = callee_zones(info)
    if not zones:
        return Refusal(
            "hours",
            "hours.unknown_timezone",
            f"The local time of {info.e164} cannot be known, so a telemarketing call cannot be placed within calling hours.",
        )
    rule, where = ctx.policy.calling_hours.rule_for(info)
    if campaign.calling_hours is not None:
        rule = rule.intersect(campaign.calling_hours)
        where = f"{where} and campaign {campaign.id}"
    for zone in zones:
        local = datetime.fromtimestamp(ctx.now, tz=zone)
        try:
            allowed_now = rule.allows(local)
        except MissingExtra as exc:  # a shipped rule names a holiday calendar: without it, no day is known to be open
            return Refusal("hours", "hours.holidays_unavailable", f"Under {where}, {exc.key} needs {exc.install}.")
        if not allowed_now:
            window = rule.describe(local.date())
            allowed = f"{local:%A} is {window}" if window.startswith("closed") else f"calls may ring {window} on that day"
            return Refusal(
                "hours",
                "hours.outside_window",
                f"It is {local:%A %H:%M} in {zone.key} for {info.e164}; under {where}, {allowed}.",
            )
    return None
