"""Telemarketing only: the internal Do-Not-Call list (opt-outs) and the national registries.

An opt-out always refuses, consent or not. Where the callee's law keeps a quiet period after a
refusal (France: 60 days; :mod:`callguard.hours.contact_limits`, as the policy's
``[contact_limits]`` leaves them), an opt-out of any scope — one for another campaign of the
family too — refuses every campaign's call until it has passed.

A number on a national registry is refused unless a valid consent record covers the campaign. A
campaign that names its registries requires them: if one is not loaded the call is refused
rather than connected unchecked.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..decision import Refusal
from ..records import OptOut, choose_optout
from .context import SKIP, DialContext, Outcome


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def check_optout(ctx: DialContext) -> Outcome:
    if not ctx.telemarketing_number:
        return SKIP
    account, campaign, e164 = ctx.account, ctx.campaign, ctx.target.e164
    assert account is not None and campaign is not None and e164 is not None
    optouts = ctx.lookups.optouts if ctx.lookups is not None else None
    if optouts is None:
        return Refusal("dnc.optout", "dnc.unavailable", "No opt-out list is configured, so a telemarketing call cannot be checked.")
    every = optouts.find_all(e164, account.family)  # one read serves both rules
    found = choose_optout(every, campaign.id)
    if found is None:
        return _refused_recently(ctx, every)
    return Refusal(
        "dnc.optout",
        "dnc.optout",
        f"{e164} opted out of calls from account family {account.family} ({found.scope}) on {_when(found.created_at)} "
        f"(source: {found.source}).",
    )


def _refused_recently(ctx: DialContext, optouts: tuple[OptOut, ...]) -> Refusal | None:
    info = ctx.info
    limit = ctx.policy.contact_limits.for_number(info) if optouts and info is not None else None
    if limit is None or limit.after_refusal is None:
        return None
    since = ctx.now - limit.after_refusal
    recent = [o for o in optouts if since < o.created_at <= ctx.now]
    if not recent:
        return None
    latest = max(recent, key=lambda o: o.created_at)
    return Refusal(
        "dnc.optout",
        "dnc.refused_recently",
        f"{latest.number} refused calls from this account family ({latest.scope}) on {_when(latest.created_at)}; "
        f"under the law of {limit.where} ({limit.law}) no campaign may call it for {limit.quiet_period()} after.",
    )


def check_national_dnc(ctx: DialContext) -> Outcome:
    if not ctx.telemarketing_number:
        return SKIP
    account, campaign, info = ctx.account, ctx.campaign, ctx.info
    assert account is not None and campaign is not None and info is not None
    registries = ctx.lookups.registries if ctx.lookups is not None else None
    wanted = campaign.registries
    if wanted:
        missing = sorted(set(wanted) - (registries.names() if registries is not None else frozenset()))
        if missing:
            return Refusal(
                "dnc.national",
                "dnc.national.unavailable",
                f"Campaign {campaign.id} requires the registries {', '.join(missing)}, which are not loaded.",
            )
    if registries is None:
        return None
    listed_in = registries.lookup(info.e164, info.region, wanted)
    if listed_in is None:
        return None
    consents = ctx.lookups.consents if ctx.lookups is not None else None
    consent = consents.find_valid(info.e164, account.family, campaign.id, ctx.now) if consents is not None else None
    if consent is not None:
        return None
    return Refusal(
        "dnc.national",
        f"dnc.national.{listed_in}",
        f"{info.e164} is on the {listed_in} Do-Not-Call registry and there is no valid consent record for campaign {campaign.id}.",
    )
