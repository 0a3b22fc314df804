"""Refuse calls over the account's rate, concurrency, velocity or per-callee limits, and calls from
caller IDs throttled for too many unanswered or too short calls (the ``[traffic]`` policy); and
telemarketing calls over the legal limit on calls to one callee of the callee's country or US
state (:mod:`callguard.hours.contact_limits`, as the policy's ``[contact_limits]`` leaves them),
counted across the account family.

The counting itself is the :class:`~callguard.traffic.TrafficMonitor`'s, behind the context's
lookups; a call already refused by an earlier check is not counted at all, and a what-if
(``DialRequest.what_if``) reads the counters without counting.
"""

from __future__ import annotations

import functools
import json

from ..policy.model import Campaign
from ..traffic.policy import TrafficPolicy, parse_traffic
from .context import SKIP, DialContext, Outcome


@functools.lru_cache(maxsize=1024)
def _with_campaign(base: TrafficPolicy, campaign_id: str, table_json: str, source: str) -> TrafficPolicy:
    return parse_traffic(json.loads(table_json), source=source, key=f"campaigns.{campaign_id}.traffic", inherited=base)


def effective_traffic(base: TrafficPolicy, campaign: Campaign | None, source: str) -> TrafficPolicy:
    """The account's traffic policy with the campaign's ``[traffic]`` laid over it."""
    if campaign is None or campaign.traffic_json is None:
        return base
    return _with_campaign(base, campaign.id, campaign.traffic_json, source)


def check_traffic(ctx: DialContext) -> Outcome:
    monitor = ctx.lookups.traffic if ctx.lookups is not None else None
    account, info = ctx.account, ctx.info
    if monitor is None or ctx.refused or account is None or info is None or not info.valid:
        return SKIP
    policy = effective_traffic(account.traffic, ctx.campaign, ctx.policy.source)
    limit = ctx.policy.contact_limits.for_number(info) if ctx.telemarketing_number else None
    frequency = limit.frequency if limit is not None else None
    if not policy.enabled and frequency is None:
        return SKIP
    request = ctx.request
    result = monitor.before_dial(
        account_sid=account.sid,
        family=account.family,
        e164=info.e164,
        region=info.region,
        caller_id=ctx.caller_id if ctx.caller_id_valid else None,
        call_sid=request.call_sid,
        campaign_id=ctx.campaign.id if ctx.campaign is not None else None,
        policy=policy,
        now=ctx.now,
        record=not request.what_if,
        hold_seconds=request.hold_seconds,
        callee_frequency=frequency,
    )
    taken = result.taken
    if taken is not None:
        if ctx.on_reject is None:
            ctx.on_reject = []
        ctx.on_reject.append(lambda: monitor.undo(taken))
    return result.refusals[0] if result.refusals else None
