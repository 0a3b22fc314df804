"""Traffic protection at the dial and after it: :class:`TrafficMonitor`, what the traffic check and the status callback use.

It ties the traffic jobs to one counters backend: admission at the dial
(:mod:`.admission`: rate, concurrency, caller-ID throttles, velocity, callee limits), outcomes
after the call (:mod:`.outcomes`), complaint thresholds (:mod:`.complaints`), the report counts of every call (:mod:`.tallies`), reports and
the multi-region rule (:mod:`.reports`). Velocity blocks and throttles are flags in the counters,
so they hold across workers, hosts and restarts; every key is named in :mod:`.keys`. What fires
is reported as a :class:`~.events.TrafficEvent` to ``on_event`` (alerts, automatic suspension).
"""

from __future__ import annotations

from collections.abc import Callable

from ..clock import Clock, system_clock
from ..loggers import get_logger
from ..records import Complaint
from .admission import DialTraffic, Taken, admit, undo_ops
from .complaints import ComplaintCounts, ComplaintFlag, judge_complaint, read_complaint_flags
from .counters import CounterBackend
from .events import TrafficEvent
from .frequency import CalleeFrequencyRule
from .outcomes import record_outcome
from .policy import TrafficPolicy
from .reports import AccountTraffic, RegionShare, RegionShareRule, read_region_share, read_report
from .tallies import TallyBuffer

log = get_logger("callguard.traffic")


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
        self.tallies = TallyBuffer(counters, clock)
        self._region_rule = RegionShareRule(counters, self.region_share)

    def close(self) -> None:
        """Write the report counts still in memory (the counters backend stays open)."""
        self.tallies.flush()

    def _emit(self, events: list[TrafficEvent]) -> None:
        for event in events:
            try:
                self.on_event(event)
            except Exception:  # an alert must never break a call
                log.exception("traffic event handler failed for %s", event.kind)

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
        callee_frequency: CalleeFrequencyRule | None = None,
    ) -> DialTraffic:
        """One atomic admission: every flag, window and gauge checked, the call recorded in all or none.

        With ``record=False`` (a what-if) nothing is recorded and nothing fires: the refusals are
        those a real call would get now. ``hold_seconds`` is how long the call's concurrency slot
        is held if its end is never reported (default: the policy's ``max_call_seconds``).
        ``callee_frequency`` is the legal limit on calls to the callee, for a telemarketing call.
        """
        traffic, events = admit(
            self.counters, self.tallies, account_sid=account_sid, family=family, e164=e164, region=region, caller_id=caller_id,
            call_sid=call_sid, campaign_id=campaign_id, policy=policy, now=now, deployment_region=self.deployment_region,
            record=record, hold_seconds=hold_seconds, callee_frequency=callee_frequency,
        )
        if traffic.taken is not None:
            events += self._region_rule.check(account_sid, policy, now)
        self._emit(events)
        return traffic

    def undo(self, taken: Taken) -> None:
        """Give back what a call took when a later check refused it."""
        ops = undo_ops(taken)
        if ops:
            self.counters.run(ops, taken.at)

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
        """Record a call's outcome (Twilio's status callback); the throttle it started, if any."""
        events = record_outcome(
            self.counters, self.tallies, account_sid=account_sid, caller_id=caller_id, call_sid=call_sid, answered=answered,
            duration=duration, policy=policy, now=now,
        )
        self._emit(events)
        return events

    def after_complaint(self, complaint: Complaint, counts: ComplaintCounts, policy: TrafficPolicy, now: float) -> list[TrafficEvent]:
        """A complaint was stored: the throttle or pause it started, if any (:mod:`.complaints`)."""
        events = judge_complaint(self.counters, counts, complaint, policy.complaints, now)
        self._emit(events)
        return events

    def complaint_flags(self, account_sid: str, now: float) -> list[ComplaintFlag]:
        """The account's caller IDs throttled and campaigns paused for complaints, in force now."""
        return read_complaint_flags(self.counters, account_sid, now)

    def region_share(self, account_sid: str, now: float) -> RegionShare:
        self.tallies.flush(now)
        return read_region_share(self.counters, account_sid, now)

    def report(self, account_sid: str, policy: TrafficPolicy, now: float, *, days: int = 7) -> AccountTraffic:
        """Per caller ID and per destination country over the last ``days`` days, with the throttles
        and velocity blocks in force now."""
        self.tallies.flush(now)
        return read_report(self.counters, account_sid, policy, now, days=days)
