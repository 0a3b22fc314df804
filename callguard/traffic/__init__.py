"""Traffic protection: counters-backed rate, concurrency, caller-ID health and velocity checks.

- :mod:`.policy`: the ``[traffic]`` tables of the policy.
- :mod:`.counters`: the counters' interface (the backends are in :mod:`callguard.store`).
- :mod:`.keys`: every counter key, each format named once.
- :mod:`.events`: what fires (throttles, velocity blocks, suspension requests, region share).
- :mod:`.admission`, :mod:`.outcomes`: at the dial, and after the call.
- :mod:`.complaints`: caller IDs throttled and campaigns paused for complaints.
- :mod:`.tallies`, :mod:`.reports`: the report counts of every call, and what they say.
- :mod:`.monitor`: :class:`TrafficMonitor`, all of it on one counters backend.
"""

from .admission import DialTraffic, Taken
from .events import TrafficEvent
from .monitor import TrafficMonitor
from .policy import NO_TRAFFIC_LIMITS, ShortCallsRule, TrafficPolicy, UnansweredRule, VelocityRule, parse_traffic
from .reports import AccountTraffic

__all__ = [
    "NO_TRAFFIC_LIMITS",
    "AccountTraffic",
    "DialTraffic",
    "Taken",
    "ShortCallsRule",
    "TrafficEvent",
    "TrafficMonitor",
    "TrafficPolicy",
    "UnansweredRule",
    "VelocityRule",
    "parse_traffic",
]
