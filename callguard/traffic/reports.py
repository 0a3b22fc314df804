"""What the counters say about an account: the traffic report, and the share of each deployment region.

:func:`read_report` gives, per caller ID and per destination country over the last days, the
attempts, answers and refusals with the throttles and velocity blocks in force now (``callguard
report traffic``, the admin API). :func:`read_region_share` gives, hour by hour over the last 24,
how the account's calls split between deployment regions; :class:`RegionShareRule` alerts when
another region than the account's home carried most of them for more than six of those hours.
Both read the report counts as last written: a caller flushes the
:class:`~callguard.traffic.tallies.TallyBuffer` first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from . import keys
from .counters import CounterBackend, GetFlag, Op, ReadIndex, ReadTallies, SetFlag
from .events import TrafficEvent
from .policy import TrafficPolicy

_FOREIGN_HOURS_ALLOWED = 6  # of the last 24 in which another region may carry most of an account's calls


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


def read_region_share(counters: CounterBackend, account_sid: str, now: float) -> RegionShare:
    """The account's calls per deployment region, hour by hour over the last 24 hours."""
    (regions,) = counters.run([ReadIndex(keys.regions(account_sid))], now)
    buckets = tuple(range(keys.hour_bucket(now) - 23, keys.hour_bucket(now) + 1))
    tallies = counters.run([ReadTallies(keys.region_calls(account_sid, r), buckets) for r in regions], now) if regions else []
    per_region = dict(zip(regions, tallies, strict=True))
    hours = []
    for bucket in buckets:
        counts = {r: per_region[r].get(bucket, 0) for r in regions}
        total = sum(counts.values())
        leader = max(counts, key=counts.__getitem__) if total else None
        hours.append(HourShare(bucket, counts, leader, counts[leader] / total if leader else 0.0))
    return RegionShare(account_sid, hours, {r: sum(per_region[r].values()) for r in regions})


def read_report(counters: CounterBackend, account_sid: str, policy: TrafficPolicy, now: float, *, days: int = 7) -> AccountTraffic:
    """Per caller ID and per destination country over the last ``days`` days, with the throttles
    and velocity blocks in force now."""
    callers, countries = counters.run([ReadIndex(keys.caller_ids(account_sid)), ReadIndex(keys.countries(account_sid))], now)
    day_buckets = tuple(range(keys.day_bucket(now) - days + 1, keys.day_bucket(now) + 1))
    targets = sorted({rule.target for rule in policy.velocity})
    ops: list[Op] = []
    for cid in callers:
        ops += [ReadTallies(keys.caller_id_tally(account_sid, cid, kind), day_buckets) for kind in ("attempts", "answered", "seconds")]
        ops.append(GetFlag(keys.throttle(account_sid, cid)))
    for country in countries:
        ops += [
            ReadTallies(keys.country_calls(account_sid, country), day_buckets),
            ReadTallies(keys.country_refused(account_sid, country), day_buckets),
        ]
    ops += [GetFlag(keys.velocity_block(account_sid, target)) for target in targets]
    results = iter(counters.run(ops, now)) if ops else iter(())
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
    country_stats = [
        CountryStats(country, attempts, refused, blocks[country][0] if country in blocks else None) for country, attempts, refused in counts
    ]
    velocity_blocks = [VelocityBlock(target, until, reason) for target, (until, reason) in blocks.items()]
    return AccountTraffic(account_sid, caller_stats, country_stats, velocity_blocks, read_region_share(counters, account_sid, now).totals)


class RegionShareRule:
    """The multi-region rule, checked at most hourly per account: more than six of the last 24
    hours with another region than the home one over half the calls alerts, once a day."""

    def __init__(self, counters: CounterBackend, region_share: Callable[[str, float], RegionShare]) -> None:
        self.counters = counters
        self.region_share = region_share  # the share as of now (report counts written first)
        self._checked: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(self, account_sid: str, policy: TrafficPolicy, now: float) -> list[TrafficEvent]:
        with self._lock:
            if now - self._checked.get(account_sid, float("-inf")) < keys.HOUR:
                return []
            self._checked[account_sid] = now
        share = self.region_share(account_sid, now)
        home = policy.home_region or (max(share.totals, key=share.totals.__getitem__) if share.totals else None)
        if home is None:
            return []
        foreign_hours = [h for h in share.hours if h.leader not in (None, home) and h.leader_share > 0.5]
        if len(foreign_hours) <= _FOREIGN_HOURS_ALLOWED:
            return []
        if self.counters.run([GetFlag(keys.region_alerted(account_sid))], now)[0] is not None:
            return []  # alerted within the day already
        self.counters.run([SetFlag(keys.region_alerted(account_sid), now + keys.DAY, "alerted")], now)
        sentence = (
            f"Account {account_sid}: in {len(foreign_hours)} of the last 24 hours a region other than its home region {home} "
            f"carried over half its calls (policy: at most {_FOREIGN_HOURS_ALLOWED})."
        )
        return [TrafficEvent("region_share", account_sid, home, sentence, now, details={"hours": len(foreign_hours)})]
