"""Calling hours: the windows in which a telemarketing call may ring, in the callee's local time."""

from .rules import CallingHours, parse_calling_hours, parse_campaign_hours, shipped_calling_hours, us_area_code_states
from .windows import DayWindow, WeeklyWindows
from .zones import callee_zones

__all__ = [
    "CallingHours",
    "DayWindow",
    "WeeklyWindows",
    "callee_zones",
    "parse_calling_hours",
    "parse_campaign_hours",
    "shipped_calling_hours",
    "us_area_code_states",
]
