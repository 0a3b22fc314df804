"""Telemarketing only: the callee's local time, in every zone the number can be in, must be inside
the calling window of its country or US state (narrowed by the campaign's own window)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..decision import Refusal
from ..errors import MissingExtra
from ..hours.windows import WeeklyWindows
from ..hours.zones import callee_zones
from ..numbers.classify import NumberInfo
from ..policy.model import Campaign, Policy
from .context import SKIP, DialContext, Outcome


def calling_rule(policy: Policy, info: NumberInfo, campaign: Campaign) -> tuple[WeeklyWindows, str]:
    """The window a telemarketing call to ``info`` must ring in, and a label saying whose it is."""
    rule, where = policy.calling_hours.rule_for(info)
    if campaign.calling_hours is not None:
        rule = rule.intersect(campaign.calling_hours)
        where = f"{where} and campaign {campaign.id}"
    return rule, where


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
    rule, where = calling_rule(ctx.policy, info, campaign)
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


@dataclass(frozen=True, slots=True)
class ZoneHours:
    """One zone the calling window was checked in: the local time there, that day's window, and
    whether the call may ring."""

    zone: str
    local: datetime
    window: str  # "08:00-20:00", "closed", "closed (holiday)"
    open: bool

    def __str__(self) -> str:
        if self.open:
            return f"{self.zone} (open {self.window}, {self.local:%H:%M} local)"
        return f"{self.zone} (closed: {self.local:%a %H:%M} local, window {self.window})"


def zone_hours(policy: Policy, info: NumberInfo, campaign: Campaign, now: float) -> tuple[ZoneHours, ...]:
    """Every zone :func:`check_hours` considers for ``info`` at ``now``, in its order (the first
    closed one is the one a refusal names), for explaining a decision."""
    rule, _ = calling_rule(policy, info, campaign)
    hours = []
    for zone in callee_zones(info):
        local = datetime.fromtimestamp(now, tz=zone)
        try:
            hours.append(ZoneHours(zone.key, local, rule.describe(local.date()), rule.allows(local)))
        except MissingExtra as exc:  # as check_hours: without the calendar, no day is known to be open
            hours.append(ZoneHours(zone.key, local, f"unknown ({exc.key} needs {exc.install})", False))
    return tuple(hours)
