"""Complaint thresholds: a caller ID throttled, or a campaign paused, once complaints about it
reach the ``[traffic.complaints]`` limit within its window.

Complaints are rare and their windows long (30 days and more, past what the counters keep), so
they are counted where they are recorded, in the durable table, through :class:`ComplaintCounts`
(the store implements it): when a complaint is recorded, :func:`judge_complaint` counts the
complaints of its caller ID (per account) and of its campaign (per account family) received
within each rule's window, and when the count reaches the rule's ``max`` it sets a flag in the
counters until the cool-down ends. The dial reads those flags in the admission it already makes
(:func:`dial_flags`, :func:`complaint_refusal`), so a throttle costs a call no extra round trip
and holds on every worker and host sharing the counters from the moment it is set.

A rule that has fired starts afresh: the complaints counted towards it do not count again, so
when the cool-down ends the caller ID or campaign is judged on complaints recorded after it
fired (as the unanswered-calls throttle is judged on calls made after its cool-down).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..decision import Refusal
from ..records import Complaint
from . import keys
from .counters import CounterBackend, GetFlag, Index, Op, ReadIndex, SetFlag
from .events import TrafficEvent, until_text

# The longest window a complaint rule may count over (complaints are kept in the database, not the counters).
MAX_COMPLAINT_WINDOW = 366 * keys.DAY

CALLER_ID, CAMPAIGN = "caller_id", "campaign"
REFUSAL_CODES = {CALLER_ID: "complaints.caller_id", CAMPAIGN: "complaints.campaign"}
EVENT_KINDS = {CALLER_ID: "complaints_throttle", CAMPAIGN: "complaints_pause"}


@dataclass(frozen=True)
class ComplaintRule:
    """``max`` complaints received within ``window`` throttle (pause) for ``cooldown`` (default: the window)."""

    max: int
    window: float
    cooldown: float | None = None

    @property
    def lasts(self) -> float:
        return self.window if self.cooldown is None else self.cooldown


@dataclass(frozen=True)
class ComplaintLimits:
    caller_id: ComplaintRule | None = None  # per calling account and caller ID
    campaign: ComplaintRule | None = None  # per account family and campaign


@dataclass(frozen=True)
class ComplaintScope:
    """What one rule counts: a caller ID's complaints to one account, or a campaign's to one account family."""

    kind: str  # CALLER_ID or CAMPAIGN
    account_sid: str  # the calling account (CALLER_ID) or the account family (CAMPAIGN)
    subject: str  # the caller ID or the campaign

    @staticmethod
    def of(complaint: Complaint, kind: str) -> ComplaintScope | None:
        if kind == CALLER_ID:
            return ComplaintScope(CALLER_ID, complaint.account_sid, complaint.caller_id)
        return ComplaintScope(CAMPAIGN, complaint.family, complaint.campaign) if complaint.campaign else None

    @property
    def flag(self) -> str:
        if self.kind == CALLER_ID:
            return keys.complaint_throttle(self.account_sid, self.subject)
        return keys.campaign_pause(self.account_sid, self.subject)


class ComplaintCounts(Protocol):
    """What the thresholds read of the durable complaints (``callguard.store.complaints.ComplaintStore``)."""

    def count_since_fired(self, scope: ComplaintScope, received_since: float) -> tuple[int, int | None]:
        """The complaints in ``scope`` received at or after ``received_since`` and recorded after
        the last one that fired the scope's rule; and the newest one's id (None when none)."""
        ...

    def mark_fired(self, scope: ComplaintScope, complaint_id: int) -> bool:
        """Record that complaint ``complaint_id`` fired the scope's rule; False if that was recorded already."""
        ...


def dial_flags(
    limits: ComplaintLimits | None, *, account_sid: str, family: str, caller_id: str | None, campaign_id: str | None
) -> list[tuple[str, str]]:
    """The (flag key, scope kind) a dial's admission reads for its complaint thresholds."""
    if limits is None:
        return []
    flags = []
    if limits.caller_id is not None and caller_id:
        flags.append((keys.complaint_throttle(account_sid, caller_id), CALLER_ID))
    if limits.campaign is not None and campaign_id:
        flags.append((keys.campaign_pause(family, campaign_id), CAMPAIGN))
    return flags


def complaint_refusal(kind: str, until: float, reason: str) -> Refusal:
    """The refusal of a dial whose caller ID is throttled, or whose campaign is paused, for complaints."""
    return Refusal("traffic", REFUSAL_CODES[kind], f"{reason}, until {until_text(until)}.")


def _sentence(scope: ComplaintScope, rule: ComplaintRule, count: int) -> str:
    days = f"{rule.window / keys.DAY:g} days" if rule.window >= keys.DAY else f"{rule.window:g} s"
    if scope.kind == CALLER_ID:
        return f"Caller ID {scope.subject} is throttled for account {scope.account_sid}: {count} complaints within {days}"
    return f"Campaign {scope.subject} is paused for account family {scope.account_sid}: {count} complaints within {days}"


def judge_complaint(
    counters: CounterBackend, counts: ComplaintCounts, complaint: Complaint, limits: ComplaintLimits | None, now: float
) -> list[TrafficEvent]:
    """After ``complaint`` is stored: throttle its caller ID and pause its campaign where their
    complaints reach the limit; the events of what was throttled or paused."""
    if limits is None:
        return []
    ops: list[Op] = []
    events = []
    for kind, rule in ((CALLER_ID, limits.caller_id), (CAMPAIGN, limits.campaign)):
        scope = ComplaintScope.of(complaint, kind)
        if rule is None or scope is None:
            continue
        count, newest = counts.count_since_fired(scope, now - rule.window)
        # Of two hosts that count the same complaints at once, one records the firing and acts on it.
        if count < rule.max or newest is None or not counts.mark_fired(scope, newest):
            continue
        until = now + rule.lasts
        sentence = _sentence(scope, rule, count)
        ops += [
            SetFlag(scope.flag, until, sentence),
            Index(keys.complaint_flags(scope.account_sid), f"{kind}:{scope.subject}", rule.lasts),
        ]
        events.append(
            TrafficEvent(
                EVENT_KINDS[kind], scope.account_sid, scope.subject, f"{sentence}; until {until_text(until)}.", now, until,
                {"complaints": count, "max": rule.max, "window": rule.window},
            )
        )
    if ops:
        counters.run(ops, now)
    return events


@dataclass(frozen=True)
class ComplaintFlag:
    """A throttle or pause in force for complaints, as reports show it."""

    kind: str  # CALLER_ID or CAMPAIGN
    subject: str  # the caller ID or campaign
    until: float
    reason: str


def read_complaint_flags(counters: CounterBackend, account_sid: str, now: float) -> list[ComplaintFlag]:
    """The caller IDs of ``account_sid`` throttled, and (for an account family's root) the
    campaigns paused, for complaints, in force at ``now``."""
    (members,) = counters.run([ReadIndex(keys.complaint_flags(account_sid))], now)
    named = (member.partition(":") for member in sorted(members))
    scopes: Sequence[ComplaintScope] = [ComplaintScope(kind, account_sid, subject) for kind, _, subject in named if kind in EVENT_KINDS]
    found = counters.run([GetFlag(scope.flag) for scope in scopes], now) if scopes else []
    return [
        ComplaintFlag(scope.kind, scope.subject, flag[0], flag[1]) for scope, flag in zip(scopes, found, strict=True) if flag is not None
    ]
