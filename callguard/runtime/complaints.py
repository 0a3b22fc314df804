"""Recording a complaint, whatever took it in (the admin API, the CLI): the complaint and its
opt-out stored, then the ``[traffic.complaints]`` thresholds judged with the calling account's
traffic policy (the campaign's laid over it), their throttles set in the counters and alerted.

The complaint and its opt-out are committed first: if the counters cannot be reached then, the
complaint still stands and counts, and the next complaint about the same caller ID or campaign
judges the threshold again.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..checks.traffic import effective_traffic
from ..errors import StoreUnavailable
from ..loggers import get_logger
from ..policy.model import Policy
from ..records import Complaint
from ..store.complaints import ComplaintStore, NewComplaint
from ..traffic.events import TrafficEvent
from ..traffic.monitor import TrafficMonitor

log = get_logger("callguard")


def record_complaints(
    store: ComplaintStore, traffic: TrafficMonitor | None, policy: Policy, entries: Sequence[NewComplaint], *, now: float, actor: str
) -> tuple[list[Complaint], list[TrafficEvent]]:
    """Store ``entries`` (one transaction), then judge the thresholds; the complaints and what fired."""
    added = [store.add(entries[0], now=now, actor=actor)[0]] if len(entries) == 1 else store.add_many(entries, now=now, actor=actor)
    return added, judge(store, traffic, policy, added, now=now)


def judge(
    store: ComplaintStore, traffic: TrafficMonitor | None, policy: Policy, added: Sequence[Complaint], *, now: float
) -> list[TrafficEvent]:
    """The thresholds judged after ``added`` were stored, in order."""
    events: list[TrafficEvent] = []
    for complaint in added:
        account = policy.account(complaint.account_sid)
        if account is None:
            continue
        limits = effective_traffic(account.traffic, policy.campaign(complaint.campaign) if complaint.campaign else None, policy.source)
        if limits.complaints is None:
            continue
        if traffic is None:
            log.error("complaint %d: no traffic counters here, so its thresholds were not judged", complaint.id)
            continue
        try:
            events += traffic.after_complaint(complaint, store, limits, now)
        except StoreUnavailable:
            log.exception("complaint %d: the thresholds could not be judged (the next complaint judges them again)", complaint.id)
    return events
