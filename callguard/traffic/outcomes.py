"""After the call: a call's outcome frees its concurrency slot and may throttle its caller ID.

:func:`record_outcome` takes the outcome from Twilio's status callback, records it with the
caller ID's recent outcomes and, when the caller ID's answer ratio or average call length
crosses its threshold, throttles that caller ID for the cool-down (a flag every worker and host
reads). When the cool-down ends the caller ID starts afresh, judged on calls made after it.
"""

from __future__ import annotations

from . import keys
from .counters import CounterBackend, GetFlag, Op, OutcomeStats, RecordOutcome, Release, Reset, SetFlag
from .events import TrafficEvent, until_text
from .policy import TrafficPolicy
from .tallies import TallyBuffer

_KEEP_AT_LEAST = 100  # outcomes kept per caller ID, whatever the rules look at
_KEEP_FOR_AT_LEAST = 7 * keys.DAY


def record_outcome(
    counters: CounterBackend,
    tallies: TallyBuffer,
    *,
    account_sid: str,
    caller_id: str | None,
    call_sid: str | None,
    answered: bool,
    duration: float,
    policy: TrafficPolicy,
    now: float,
) -> list[TrafficEvent]:
    """Record the outcome; the throttle it started, if any."""
    ops: list[Op] = []
    if call_sid and policy.concurrent:
        ops.append(Release(keys.concurrent(account_sid), call_sid))
    unanswered, short = policy.unanswered, policy.short_calls
    keep = max((unanswered.last if unanswered else 0), (short.last if short else 0), _KEEP_AT_LEAST)
    ttl = max((unanswered.window if unanswered else 0), (short.window if short else 0), _KEEP_FOR_AT_LEAST)
    if caller_id:
        ops.append(RecordOutcome(keys.outcomes(account_sid, caller_id), answered, duration, keep, ttl))
        if answered:
            ops.append(RecordOutcome(keys.answered_outcomes(account_sid, caller_id), True, duration, keep, ttl))
        tallies.count_outcome(account_sid, caller_id, answered, duration, now)
    checks: list[str] = []
    if caller_id and (unanswered or short):
        ops.append(GetFlag(keys.throttle(account_sid, caller_id)))
        checks.append("flag")
        if unanswered:
            ops.append(OutcomeStats(keys.outcomes(account_sid, caller_id), unanswered.window, unanswered.last))
            checks.append("unanswered")
        if short:
            ops.append(OutcomeStats(keys.answered_outcomes(account_sid, caller_id), short.window, short.last))
            checks.append("short")
    if not ops:
        return []
    results = counters.run(ops, now)[len(ops) - len(checks) :]
    found = dict(zip(checks, results, strict=True))
    if not caller_id or found.get("flag") is not None:
        return []
    throttle = None
    if unanswered and "unanswered" in found:
        attempts, answered_count, _ = found["unanswered"]
        if attempts >= unanswered.min_attempts and answered_count / attempts < unanswered.min_answer_ratio:
            throttle = (
                "unanswered",
                unanswered.cooldown,
                f"{answered_count} of its last {attempts} calls were answered ({answered_count / attempts:.0%}, "
                f"the floor is {unanswered.min_answer_ratio:.0%})",
            )
    if throttle is None and short and "short" in found:
        count, _, seconds = found["short"]
        if count >= short.min_answered and seconds / count < short.min_average_seconds:
            throttle = (
                "short_calls",
                short.cooldown,
                f"its last {count} answered calls averaged {seconds / count:.1f} s (the floor is {short.min_average_seconds:g} s)",
            )
    if throttle is None:
        return []
    code, cooldown, sentence = throttle
    until = now + cooldown
    counters.run(
        [SetFlag(keys.throttle(account_sid, caller_id), until, f"{code}|{sentence}"),
         Reset(keys.outcomes(account_sid, caller_id)), Reset(keys.answered_outcomes(account_sid, caller_id))],
        now,
    )
    return [
        TrafficEvent(
            "throttle_started",
            account_sid,
            caller_id,
            f"Caller ID {caller_id} throttled until {until_text(until)}: {sentence}.",
            now,
            until,
            {"rule": code},
        )
    ]
