"""The checks, in the order DESIGN.md gives them: each a pure function of a :class:`DialContext`."""

from .account import check_account
from .callerid import check_caller_id
from .context import SKIP, Check, DialContext, Outcome
from .destination import check_destination
from .emergency import check_emergency
from .geo import check_geo
from .prefix import check_prefix

# (name, check) in decision order: the first refusal wins, every result is recorded.
DEFAULT_CHECKS: tuple[tuple[str, Check], ...] = (
    ("emergency", check_emergency),
    ("account", check_account),
    ("destination", check_destination),
    ("prefix", check_prefix),
    ("geo", check_geo),
    ("callerid", check_caller_id),
)

__all__ = [
    "DEFAULT_CHECKS",
    "SKIP",
    "Check",
    "DialContext",
    "Outcome",
    "check_account",
    "check_caller_id",
    "check_destination",
    "check_emergency",
    "check_geo",
    "check_prefix",
]
