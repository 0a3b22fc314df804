"""Admission at the dial: one counter batch decides whether a call is within every traffic limit.

:func:`admit` builds the call's admission (the CPS and velocity windows, the per-callee window,
the concurrency gauge, the velocity-block and throttle flags that apply), runs it as one atomic
batch that records the attempt where the limits allow it, and turns what it found into
refusals. A velocity trigger that trips blocks its target from now (a flag) and starts its count
afresh; it is reported as :class:`~callguard.traffic.events.TrafficEvent`\\ s. A call refused —
here, or by a later check — gives back what it took (:func:`undo_ops`), so refused calls do not
use up the quota of calls that connect. A what-if (``record=False``: a pre-dial check that places
nothing) gets the refusals a real call would get at that moment but records nothing: no attempt,
no concurrency slot, no report count, no velocity block.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..decision import Refusal
from ..numbers.regions import region_name
from . import keys
from .complaints import complaint_refusal, dial_flags
from .counters import Admit, CounterBackend, Op, Release, Reset, SetFlag, Unhit
from .events import TrafficEvent, until_text
from .frequency import CalleeFrequencyRule
from .policy import TrafficPolicy, VelocityRule
from .tallies import TallyBuffer


@dataclass(frozen=True)
class Taken:
    """What an admitted call recorded: given back (:func:`undo_ops`) if a later check refuses it."""

    windows: tuple[str, ...]
    event: str
    at: float
    gauges: tuple[str, ...]  # only those the call joined: a slot it held already stays with it
    member: str


@dataclass
class DialTraffic:
    refusals: list[Refusal]
    taken: Taken | None  # None when the call was refused or was a what-if: nothing was recorded


def admit(
    counters: CounterBackend,
    tallies: TallyBuffer,
    *,
    account_sid: str,
    family: str,
    e164: str,
    region: str | None,
    caller_id: str | None,
    call_sid: str | None,
    campaign_id: str | None,
    policy: TrafficPolicy,
    now: float,
    deployment_region: str,
    record: bool = True,
    hold_seconds: float | None = None,
    callee_frequency: CalleeFrequencyRule | None = None,
) -> tuple[DialTraffic, list[TrafficEvent]]:
    """One atomic admission, and the events it fired (none for a what-if).

    ``callee_frequency``: the legal limit on calls to this callee (a telemarketing call's), counted
    by account family across campaigns and caller IDs."""
    event = os.urandom(16).hex()
    member = call_sid or event
    country = region or "intl"
    windows: list[tuple[str, float, int]] = []
    window_kinds: list[tuple[str, VelocityRule | None]] = []
    flags: list[str] = []
    flag_kinds: list[tuple[str, VelocityRule | None]] = []
    gauges: list[tuple[str, float, int]] = []
    if policy.cps:
        windows.append((keys.cps(account_sid), 1.0, policy.cps))
        window_kinds.append(("cps", None))
    for rule in policy.velocity:
        if rule.matches(e164, region):
            flag = keys.velocity_block(account_sid, rule.target)
            if flag not in flags:  # several rules on one target: one block
                flags.append(flag)
                flag_kinds.append(("velocity", rule))
            windows.append((keys.velocity_window(account_sid, rule.target, rule.window), rule.window, rule.max_calls))
            window_kinds.append(("velocity", rule))
    if policy.max_calls_per_callee_per_day:
        windows.append((keys.callee(family, campaign_id, e164), keys.DAY, policy.max_calls_per_callee_per_day))
        window_kinds.append(("callee", None))
    if callee_frequency is not None:
        windows.append((keys.callee_frequency(family, e164, callee_frequency.window), callee_frequency.window, callee_frequency.max_calls))
        window_kinds.append(("frequency", None))
    if caller_id and (policy.unanswered or policy.short_calls):
        flags.append(keys.throttle(account_sid, caller_id))
        flag_kinds.append(("throttle", None))
    for flag, kind in dial_flags(policy.complaints, account_sid=account_sid, family=family, caller_id=caller_id, campaign_id=campaign_id):
        flags.append(flag)
        flag_kinds.append((f"complaints.{kind}", None))
    if policy.concurrent:
        hold = policy.max_call_seconds if hold_seconds is None else hold_seconds
        gauges.append((keys.concurrent(account_sid), hold, policy.concurrent))

    result = counters.admit(Admit(tuple(windows), tuple(gauges), tuple(flags), member, event, record), now)
    if record:
        tallies.count_call(account_sid, country, caller_id, deployment_region, now)

    if result.admitted:
        if not record:
            return DialTraffic([], None), []
        taken = Taken(
            tuple(key for key, _, _ in windows),
            event,
            now,
            tuple(key for (key, _, _), joined in zip(gauges, result.joined, strict=True) if joined),
            member,
        )
        return DialTraffic([], taken), []

    events: list[TrafficEvent] = []
    refusals: list[Refusal] = []
    follow_up: list[Op] = []
    for (kind, flagged), value in zip(flag_kinds, result.flags, strict=True):
        if value is None:
            continue
        until, reason = value
        if kind == "throttle":
            code, _, sentence = reason.partition("|")
            refusals.append(
                Refusal("traffic", f"traffic.{code}", f"Caller ID {caller_id} is throttled until {until_text(until)}: {sentence}.")
            )
        elif kind.startswith("complaints."):
            refusals.append(complaint_refusal(kind.removeprefix("complaints."), until, reason))
        elif flagged is not None:
            refusals.append(
                Refusal(
                    "traffic",
                    "traffic.velocity",
                    f"Calls to {flagged.target} are blocked for account {account_sid} until {until_text(until)}: {reason}.",
                )
            )
    blocked = {
        flagged.target for (kind, flagged), value in zip(flag_kinds, result.flags, strict=True) if kind == "velocity" and value and flagged
    }
    tripped: dict[str, VelocityRule] = {}  # per target, the tripped rule with the longest block
    for (kind, counted), (_, _, limit), count in zip(window_kinds, windows, result.window_counts, strict=True):
        if count < limit:
            continue
        if kind == "cps":
            refusals.append(Refusal("traffic", "traffic.cps", f"Account {account_sid} is at its limit of {limit} calls a second."))
        elif kind == "callee":
            refusals.append(
                Refusal("traffic", "traffic.callee_daily", f"{e164} has had {count} calls in 24 hours from this account family, its limit.")
            )
        elif kind == "frequency" and callee_frequency is not None:
            law = callee_frequency
            refusals.append(Refusal(
                "traffic", "traffic.callee_frequency",
                f"{e164} has had {count} telemarketing calls from this account family within {law.within()}, the most the law of "
                f"{law.where} ({law.law}) allows.",
            ))
        elif kind == "velocity" and counted is not None and counted.target not in blocked:
            if counted.target not in tripped or counted.block_for > tripped[counted.target].block_for:
                tripped[counted.target] = counted
    for target, rule in tripped.items():
        what = region_name(target) if rule.by_region else target
        reason = f"more than {rule.max_calls} calls to {what} within {rule.window:g} s"
        until = now + rule.block_for
        refusals.append(
            Refusal(
                "traffic", "traffic.velocity", f"Calls to {what} are blocked for account {account_sid} until {until_text(until)}: {reason}."
            )
        )
        if not record:
            continue  # a what-if says the trigger would trip; only a real call trips it
        # The block is in force from now; when it ends, counting starts afresh.
        follow_up.append(SetFlag(keys.velocity_block(account_sid, target), until, reason))
        follow_up += [
            Reset(key)
            for (k, r), (key, _, _) in zip(window_kinds, windows, strict=True)
            if k == "velocity" and r is not None and r.target == target
        ]
        events.append(TrafficEvent(
            "velocity_block", account_sid, target, f"Account {account_sid}: {reason}; blocked until {until_text(until)}.", now, until,
            {"max_calls": rule.max_calls, "window": rule.window},
        ))
        if rule.suspend_account:
            events.append(TrafficEvent("suspend_requested", account_sid, target, f"Velocity trigger on {what}: {reason}.", now))
    for (_, _, limit), count in zip(gauges, result.gauge_counts, strict=True):
        if count >= limit:
            refusals.append(Refusal("traffic", "traffic.concurrent", f"Account {account_sid} already has {count} calls up, its limit."))
    if not record:
        return DialTraffic(refusals, None), []
    tallies.count_refused(account_sid, country, now)
    if follow_up:
        counters.run(follow_up, now)
    return DialTraffic(refusals, None), events


def undo_ops(taken: Taken) -> list[Op]:
    """What gives back what a call took when a later check refused it."""
    ops: list[Op] = [Unhit(key, taken.event, taken.at) for key in taken.windows]
    ops += [Release(key, taken.member) for key in taken.gauges]
    return ops
