"""Traffic protection: counters-backed rate, concurrency, caller-ID health and velocity checks."""

from .monitor import AccountTraffic, DialTraffic, TrafficEvent, TrafficMonitor
from .policy import NO_TRAFFIC_LIMITS, ShortCallsRule, TrafficPolicy, UnansweredRule, VelocityRule, parse_traffic

__all__ = [
    "NO_TRAFFIC_LIMITS",
    "AccountTraffic",
    "DialTraffic",
    "ShortCallsRule",
    "TrafficEvent",
    "TrafficMonitor",
    "TrafficPolicy",
    "UnansweredRule",
    "VelocityRule",
    "parse_traffic",
]
