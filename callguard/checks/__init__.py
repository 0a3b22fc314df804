"""The checks, in the order DESIGN.md gives them: each a pure function of a :class:`DialContext`."""

from .account import check_account
from .callerid import check_caller_id
from .campaign import check_campaign
from .context import SKIP, Check, DialContext, Outcome
from .destination import check_destination
from .dnc import check_national_dnc, check_optout
from .emergency import check_emergency
from .geo import check_geo
from .hours import check_hours
from .prefix import check_prefix
from .traffic import check_traffic
from .twilio import check_twilio

# (name, check) in decision order: the first refusal wins, every result is recorded.
DEFAULT_CHECKS: tuple[tuple[str, Check], ...] = (
    ("emergency", check_emergency),
    ("account", check_account),
    ("twilio", check_twilio),
    ("campaign", check_campaign),
    ("destination", check_destination),
    ("prefix", check_prefix),
    ("geo", check_geo),
    ("callerid", check_caller_id),
    ("traffic", check_traffic),
)

# Run after the checks above, and only for calls of a telemarketing campaign. Disclosure is not
# a check: it turns a telemarketing connect into a disclose (see Guard).
TELEMARKETING_CHECKS: tuple[tuple[str, Check], ...] = (
    ("dnc.optout", check_optout),
    ("dnc.national", check_national_dnc),
    ("hours", check_hours),
)

__all__ = [
    "DEFAULT_CHECKS",
    "TELEMARKETING_CHECKS",
    "SKIP",
    "Check",
    "DialContext",
    "Outcome",
    "check_account",
    "check_caller_id",
    "check_campaign",
    "check_hours",
    "check_national_dnc",
    "check_optout",
    "check_destination",
    "check_emergency",
    "check_geo",
    "check_prefix",
    "check_traffic",
    "check_twilio",
]
