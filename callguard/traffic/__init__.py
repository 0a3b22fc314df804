"""Traffic protection: counters-backed rate, concurrency, caller-ID health and velocity checks."""

from .monitor import AccountTraffic, DialTraffic, Taken, TrafficEvent, TrafficMonitor
from .policy import NO_TRAFFIC_LIMITS, ShortCallsRule, TrafficPolicy, UnansweredRule, VelocityRule, parse_traffic

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
