"""Traffic protection at the dial: rate, concurrency, caller-ID health, velocity, callee limits.

:meth:`TrafficMonitor.before_dial` runs one counter batch per call: it records the attempt
where the limits allow it and returns the refusals that apply. A call refused — here, or by a
later check — gives back what it took (:meth:`undo`), so refused calls do not use up the
quota of calls that connect. A what-if (``record=False``: a pre-dial check that places
nothing) reads the same counters and gets the refusals a real call would get at that moment,
but records nothing: no attempt, no concurrency slot, no report count, no velocity block.
:meth:`after_call` takes a call's outcome from Twilio's status callback, frees its concurrency
slot and, when a caller ID's answer ratio or average call length crosses its threshold,
throttles that caller ID for the cool-down. Velocity triggers and throttles are flags in the
counter backend, so they hold across workers, hosts and restarts. What fires is reported as
:class:`TrafficEvent` to ``on_event`` (alerts, automatic suspension).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ..clock import Clock, system_clock
from ..decision import Refusal
from ..numbers.regions import region_name
from .counters import (
    Admit,
    CounterBackend,
    GetFlag,
    Index,
    Op,
    OutcomeStats,
    ReadIndex,
    ReadTallies,
    RecordOutcome,
    Release,
    Reset,
    SetFlag,
    Tally,
    Unhit,
)
from .policy import TrafficPolicy, VelocityRule

log = logging.getLogger("callguard.traffic")

DAY = 86_400.0
HOUR = 3_600.0
REPORT_TTL = 8 * DAY


@dataclass(frozen=True)
class TrafficEvent:
    kind: str  # throttle_started, velocity_block, suspend_requested, region_share
    account_sid: str
    subject: str  # the caller ID, prefix/country, or region concerned
    sentence: str
    at: float
    until: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "account_sid": self.account_sid, "subject": self.subject, "sentence": self.sentence,
            "at": self.at, "until": self.until, "details": dict(self.details),
        }


@dataclass(frozen=True)
class Taken:
    """What an admitted call recorded: given back (:meth:`TrafficMonitor.undo`) if a later check refuses it."""

    windows: tuple[str, ...]
    event: str
    at: float
    gauges: tuple[str, ...]  # only those the call joined: a slot it held already stays with it
    member: str


@dataclass
class DialTraffic:
    refusals: list[Refusal]
    taken: Taken | None  # None when the call was refused or was a what-if: nothing was recorded


@dataclass(frozen=True)
class CallerIdStats:
    caller_id: str
    attempts: int
    answered: int
    average_seconds: float | None
    throttled_until: float | None
    throttle_reason: str | None

    @property
    def answer_ratio(self) -> float | None:
        return self.answered / self.attempts if self.attempts else None


@dataclass(frozen=True)
class CountryStats:
    region: str
    attempts: int
    refused: int
    blocked_until: float | None


@dataclass(frozen=True)
class VelocityBlock:
    target: str  # a prefix ("+371") or a region ("LV")
    until: float
    reason: str


@dataclass(frozen=True)
class AccountTraffic:
    account_sid: str
    caller_ids: list[CallerIdStats]
    countries: list[CountryStats]
    velocity_blocks: list[VelocityBlock]
    region_calls: dict[str, int]


def _day(now: float) -> int:
    return int(now // DAY)


def _hour(now: float) -> int:
    return int(now // HOUR)


def _until(epoch: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


class TrafficMonitor:
    def __init__(
        self,
        counters: CounterBackend,
        *,
        clock: Clock = system_clock,
        deployment_region: str = "default",
        on_event: Callable[[TrafficEvent], None] | None = None,
    ) -> None:
        self.counters = counters
        self.deployment_region = deployment_region
        self.on_event = on_event or (lambda event: None)
        self._share_checked: dict[str, float] = {}
        self._lock = threading.Lock()
        self.tallies = TallyBuffer(counters, clock)

    def close(self) -> None:
        """Write the report counts still in memory (the counters backend stays open)."""
        self.tallies.close()

    def _emit(self, events: list[TrafficEvent]) -> None:
        for event in events:
            try:
                self.on_event(event)
            except Exception:  # an alert must never break a call
                log.exception("traffic event handler failed for %s", event.kind)

    # -- at the dial ------------------------------------------------------------------------

    def before_dial(
        self,
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
        record: bool = True,
        hold_seconds: float | None = None,
    ) -> DialTraffic:
        """One atomic admission: every flag, window and gauge checked, the call recorded in all or none.

        With ``record=False`` (a what-if) nothing is recorded and nothing fires: the refusals are
        those a real call would get now. ``hold_seconds`` is how long the call's concurrency slot
        is held if its end is never reported (default: the policy's ``max_call_seconds``).
        """
        event = os.urandom(16).hex()
        member = call_sid or event
        country = region or "intl"
        windows: list[tuple[str, float, int]] = []
        window_kinds: list[tuple[str, VelocityRule | None]] = []
        flags: list[str] = []
        flag_kinds: list[tuple[str, VelocityRule | None]] = []
        gauges: list[tuple[str, float, int]] = []
        if policy.cps:
            windows.append((f"cps:{account_sid}", 1.0, policy.cps))
            window_kinds.append(("cps", None))
        for rule in policy.velocity:
            if rule.matches(e164, region):
                flag = f"velblock:{account_sid}:{rule.target}"
                if flag not in flags:  # several rules on one target: one block
                    flags.append(flag)
                    flag_kinds.append(("velocity", rule))
                windows.append((f"vel:{account_sid}:{rule.target}:{rule.window:g}", rule.window, rule.max_calls))
                window_kinds.append(("velocity", rule))
        if policy.max_calls_per_callee_per_day:
            windows.append((f"callee:{family}:{campaign_id or '*'}:{e164}", DAY, policy.max_calls_per_callee_per_day))
            window_kinds.append(("callee", None))
        if caller_id and (policy.unanswered or policy.short_calls):
            flags.append(f"thr:{account_sid}:{caller_id}")
            flag_kinds.append(("throttle", None))
        if policy.concurrent:
            hold = policy.max_call_seconds if hold_seconds is None else hold_seconds
            gauges.append((f"conc:{account_sid}", hold, policy.concurrent))

        result = self.counters.admit(Admit(tuple(windows), tuple(gauges), tuple(flags), member, event, record), now)
        if record:
            self.tallies.count_call(account_sid, country, caller_id, self.deployment_region, now)

        events: list[TrafficEvent] = []
        if result.admitted:
            if not record:
                return DialTraffic([], None)
            taken = Taken(
                tuple(key for key, _, _ in windows), event, now, tuple(key for (key, _, _), joined in zip(gauges, result.joined) if joined), member
            )
            events.extend(self._region_share(account_sid, policy, now))
            self._emit(events)
            return DialTraffic([], taken)

        refusals: list[Refusal] = []
        follow_up: list[Op] = []
        for (kind, flagged), value in zip(flag_kinds, result.flags):
            if value is None:
                continue
            until, reason = value
            if kind == "throttle":
                code, _, sentence = reason.partition("|")
                refusals.append(Refusal("traffic", f"traffic.{code}", f"Caller ID {caller_id} is throttled until {_until(until)}: {sentence}."))
            elif flagged is not None:
                refusals.append(
                    Refusal("traffic", "traffic.velocity", f"Calls to {flagged.target} are blocked for account {account_sid} until {_until(until)}: {reason}.")
                )
        blocked = {flagged.target for (kind, flagged), value in zip(flag_kinds, result.flags) if kind == "velocity" and value and flagged}
        tripped: dict[str, VelocityRule] = {}  # per target, the tripped rule with the longest block
        for (kind, counted), (_, _, limit), count in zip(window_kinds, windows, result.window_counts):
            if count < limit:
                continue
            if kind == "cps":
                refusals.append(Refusal("traffic", "traffic.cps", f"Account {account_sid} is at its limit of {limit} calls a second."))
            elif kind == "callee":
                refusals.append(Refusal("traffic", "traffic.callee_daily", f"{e164} has had {count} calls in 24 hours from this account family, its limit."))
            elif kind == "velocity" and counted is not None and counted.target not in blocked:
                if counted.target not in tripped or counted.block_for > tripped[counted.target].block_for:
                    tripped[counted.target] = counted
        for target, rule in tripped.items():
            what = region_name(target) if rule.by_region else target
            reason = f"more than {rule.max_calls} calls to {what} within {rule.window:g} s"
            until = now + rule.block_for
            refusals.append(Refusal("traffic", "traffic.velocity", f"Calls to {what} are blocked for account {account_sid} until {_until(until)}: {reason}."))
            if not record:
                continue  # a what-if says the trigger would trip; only a real call trips it
            # The block is in force from now; when it ends, counting starts afresh.
            follow_up.append(SetFlag(f"velblock:{account_sid}:{target}", until, reason))
            follow_up += [Reset(key) for (k, r), (key, _, _) in zip(window_kinds, windows) if k == "velocity" and r is not None and r.target == target]
            events.append(TrafficEvent("velocity_block", account_sid, target, f"Account {account_sid}: {reason}; blocked until {_until(until)}.", now, until, {"max_calls": rule.max_calls, "window": rule.window}))
            if rule.suspend_account:
                events.append(TrafficEvent("suspend_requested", account_sid, target, f"Velocity trigger on {what}: {reason}.", now))
        for (_, _, limit), count in zip(gauges, result.gauge_counts):
            if count >= limit:
                refusals.append(Refusal("traffic", "traffic.concurrent", f"Account {account_sid} already has {count} calls up, its limit."))
        if not record:
            return DialTraffic(refusals, None)
        self.tallies.add(f"refused:{account_sid}:{country}", _day(now), REPORT_TTL)
        if follow_up:
            self.counters.run(follow_up, now)
        self._emit(events)
        return DialTraffic(refusals, None)

    def undo(self, taken: Taken) -> None:
        """Give back what a call took when a later check refused it."""
        ops: list[Op] = [Unhit(key, taken.event, taken.at) for key in taken.windows]
        ops += [Release(key, taken.member) for key in taken.gauges]
        if ops:
            self.counters.run(ops, taken.at)

    # -- after the call -----------------------------------------------------------------------

    def after_call(
        self,
        *,
        account_sid: str,
        caller_id: str | None,
        call_sid: str | None,
        answered: bool,
        duration: float,
        policy: TrafficPolicy,
        now: float,
    ) -> list[TrafficEvent]:
        ops: list[Op] = []
        if call_sid and policy.concurrent:
            ops.append(Release(f"conc:{account_sid}", call_sid))
        unanswered, short = policy.unanswered, policy.short_calls
        keep = max((unanswered.last if unanswered else 0), (short.last if short else 0), 100)
        ttl = max((unanswered.window if unanswered else 0), (short.window if short else 0), 7 * DAY)
        if caller_id:
            ops.append(RecordOutcome(f"out:{account_sid}:{caller_id}", answered, duration, keep, ttl))
            if answered:
                ops.append(RecordOutcome(f"ans:{account_sid}:{caller_id}", True, duration, keep, ttl))
            self.tallies.index(f"callers:{account_sid}", caller_id, REPORT_TTL)
            self.tallies.add(f"cid:{account_sid}:{caller_id}:attempts", _day(now), REPORT_TTL)
            if answered:
                self.tallies.add(f"cid:{account_sid}:{caller_id}:answered", _day(now), REPORT_TTL)
                self.tallies.add(f"cid:{account_sid}:{caller_id}:seconds", _day(now), REPORT_TTL, round(duration))
        checks: list[str] = []
        if caller_id and (unanswered or short):
            ops.append(GetFlag(f"thr:{account_sid}:{caller_id}"))
            checks.append("flag")
            if unanswered:
                ops.append(OutcomeStats(f"out:{account_sid}:{caller_id}", unanswered.window, unanswered.last))
                checks.append("unanswered")
            if short:
                ops.append(OutcomeStats(f"ans:{account_sid}:{caller_id}", short.window, short.last))
                checks.append("short")
        if not ops:
            return []
        results = self.counters.run(ops, now)[len(ops) - len(checks) :]
        found = dict(zip(checks, results))
        events: list[TrafficEvent] = []
        if caller_id and found.get("flag") is None:
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
            if throttle is not None:
                code, cooldown, sentence = throttle
                until = now + cooldown
                # When the cool-down ends the caller ID starts afresh, judged on calls made after it.
                self.counters.run(
                    [SetFlag(f"thr:{account_sid}:{caller_id}", until, f"{code}|{sentence}"),
                     Reset(f"out:{account_sid}:{caller_id}"), Reset(f"ans:{account_sid}:{caller_id}")],
                    now,
                )
                events.append(TrafficEvent("throttle_started", account_sid, caller_id, f"Caller ID {caller_id} throttled until {_until(until)}: {sentence}.", now, until, {"rule": code}))
        self._emit(events)
        return events

    # -- the multi-region rule ------------------------------------------------------------------

    def _region_share(self, account_sid: str, policy: TrafficPolicy, now: float) -> list[TrafficEvent]:
        """Hourly: more than 6 of the last 24 hours with another region over half the calls alerts."""
        with self._lock:
            if now - self._share_checked.get(account_sid, float("-inf")) < HOUR:
                return []
            self._share_checked[account_sid] = now
        share = self.region_share(account_sid, now)
        home = policy.home_region or (max(share.totals, key=share.totals.get) if share.totals else None)  # type: ignore[arg-type]
        if home is None:
            return []
        foreign_hours = [h for h in share.hours if h.leader not in (None, home) and h.leader_share > 0.5]
        if len(foreign_hours) <= 6:
            return []
        if self.counters.run([GetFlag(f"regionalert:{account_sid}")], now)[0] is not None:
            return []  # alerted within the day already
        self.counters.run([SetFlag(f"regionalert:{account_sid}", now + DAY, "alerted")], now)
        sentence = (
            f"Account {account_sid}: in {len(foreign_hours)} of the last 24 hours a region other than its home region {home} "
            f"carried over half its calls (policy: at most 6)."
        )
        return [TrafficEvent("region_share", account_sid, home, sentence, now, details={"hours": len(foreign_hours)})]

    def region_share(self, account_sid: str, now: float) -> "RegionShare":
        self.tallies.flush(now)
        (regions,) = self.counters.run([ReadIndex(f"regions:{account_sid}")], now)
        buckets = tuple(range(_hour(now) - 23, _hour(now) + 1))
        tallies = self.counters.run([ReadTallies(f"region:{account_sid}:{r}", buckets) for r in regions], now) if regions else []
        per_region = dict(zip(regions, tallies))
        hours = []
        for bucket in buckets:
            counts = {r: per_region[r].get(bucket, 0) for r in regions}
            total = sum(counts.values())
            leader = max(counts, key=counts.get) if total else None  # type: ignore[arg-type]
            hours.append(HourShare(bucket, counts, leader, counts[leader] / total if leader else 0.0))
        return RegionShare(account_sid, hours, {r: sum(per_region[r].values()) for r in regions})

    # -- reports ------------------------------------------------------------------------------

    def report(self, account_sid: str, policy: TrafficPolicy, now: float, *, days: int = 7) -> AccountTraffic:
        """Per caller ID and per destination country over the last ``days`` days, with the throttles
        and velocity blocks in force now."""
        self.tallies.flush(now)
        callers, countries = self.counters.run([ReadIndex(f"callers:{account_sid}"), ReadIndex(f"countries:{account_sid}")], now)
        day_buckets = tuple(range(_day(now) - days + 1, _day(now) + 1))
        targets = sorted({rule.target for rule in policy.velocity})
        ops: list[Op] = []
        for cid in callers:
            ops += [ReadTallies(f"cid:{account_sid}:{cid}:{kind}", day_buckets) for kind in ("attempts", "answered", "seconds")]
            ops.append(GetFlag(f"thr:{account_sid}:{cid}"))
        for country in countries:
            ops += [ReadTallies(f"country:{account_sid}:{country}", day_buckets), ReadTallies(f"refused:{account_sid}:{country}", day_buckets)]
        ops += [GetFlag(f"velblock:{account_sid}:{target}") for target in targets]
        results = iter(self.counters.run(ops, now)) if ops else iter(())
        caller_stats = []
        for cid in callers:
            attempts, answered, seconds = (sum(next(results).values()) for _ in range(3))
            flag = next(results)
            caller_stats.append(
                CallerIdStats(cid, attempts, answered, seconds / answered if answered else None,
                              flag[0] if flag else None, flag[1].partition("|")[2] if flag else None)
            )
        counts = [(country, sum(next(results).values()), sum(next(results).values())) for country in countries]
        blocks = {target: flag for target in targets if (flag := next(results)) is not None}
        country_stats = [CountryStats(country, attempts, refused, blocks[country][0] if country in blocks else None) for country, attempts, refused in counts]
        velocity_blocks = [VelocityBlock(target, until, reason) for target, (until, reason) in blocks.items()]
        return AccountTraffic(account_sid, caller_stats, country_stats, velocity_blocks, self.region_share(account_sid, now).totals)


@dataclass(frozen=True)
class HourShare:
    hour: int
    counts: dict[str, int]
    leader: str | None
    leader_share: float


@dataclass(frozen=True)
class RegionShare:
    account_sid: str
    hours: list[HourShare]
    totals: dict[str, int]


class TallyBuffer:
    """Report counts gathered in memory and written by a background thread once a second.

    Reports and the multi-region rule need per-country and per-region counts of every call,
    but not within the call's own counter batch: keeping them out of it keeps a decision to one
    short round trip. A crash loses at most a second of report counts, never a limit.
    """

    def __init__(self, counters: CounterBackend, clock: Clock, *, interval: float = 1.0) -> None:
        self.counters = counters
        self.clock = clock
        self.interval = interval
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a fork's copy of the counts is the parent's to write

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._tallies: dict[tuple[str, int, float], int] = {}
        self._indexes: dict[tuple[str, str], float] = {}
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None

    def add(self, key: str, bucket: int, ttl: float, amount: int = 1) -> None:
        with self._lock:
            self._tallies[(key, bucket, ttl)] = self._tallies.get((key, bucket, ttl), 0) + amount
        if self._writer is None:
            self._start_writer()

    def index(self, key: str, member: str, ttl: float) -> None:
        with self._lock:
            self._indexes[(key, member)] = ttl
        if self._writer is None:
            self._start_writer()

    def count_call(self, account_sid: str, country: str, caller_id: str | None, deployment_region: str, now: float) -> None:
        """A call's report counts: its destination country and deployment region, and its caller ID."""
        day, hour = _day(now), _hour(now)
        with self._lock:
            tallies, indexes = self._tallies, self._indexes
            for key in ((f"country:{account_sid}:{country}", day, REPORT_TTL), (f"region:{account_sid}:{deployment_region}", hour, 2 * DAY)):
                tallies[key] = tallies.get(key, 0) + 1
            indexes[(f"countries:{account_sid}", country)] = REPORT_TTL
            indexes[(f"regions:{account_sid}", deployment_region)] = 2 * DAY
            if caller_id:
                indexes[(f"callers:{account_sid}", caller_id)] = REPORT_TTL
        if self._writer is None:
            self._start_writer()

    def _start_writer(self) -> None:
        with self._lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._run, name="callguard-tallies", daemon=True)
                self._writer.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush(self.clock())

    def flush(self, now: float) -> None:
        with self._lock:
            tallies, self._tallies = self._tallies, {}
            indexes, self._indexes = self._indexes, {}
        ops: list[Op] = [Tally(key, bucket, amount, ttl) for (key, bucket, ttl), amount in tallies.items()]
        ops += [Index(key, member, ttl) for (key, member), ttl in indexes.items()]
        if not ops:
            return
        try:
            self.counters.run(ops, now)
        except Exception:  # report counts are best effort; limits never depend on them
            log.exception("traffic report counts could not be written; %d dropped", len(ops))

    def close(self) -> None:
        """Stop the writer and write what is left."""
        self._stop.set()
        if self._writer is not None:
            self._writer.join(timeout=5)
        self.flush(self.clock())
