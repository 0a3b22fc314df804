"""Calling hours: the windows in which a telemarketing call may ring, in the callee's local time; and
the legal limits on how often one consumer may be called."""

from .contact_limits import ContactLimit, ContactLimits, parse_contact_limits, shipped_contact_limits
from .rules import CallingHours, parse_calling_hours, parse_campaign_hours, shipped_calling_hours, us_area_code_states
from .windows import DayWindow, WeeklyWindows
from .zones import callee_zones

__all__ = [
    "CallingHours",
    "ContactLimit",
    "ContactLimits",
    "DayWindow",
    "WeeklyWindows",
    "callee_zones",
    "parse_calling_hours",
    "parse_campaign_hours",
    "parse_contact_limits",
    "shipped_calling_hours",
    "shipped_contact_limits",
    "us_area_code_states",
]
