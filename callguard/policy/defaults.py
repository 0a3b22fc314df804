"""The policy's ``[defaults]`` table: what holds for every account that does not say otherwise
(fail mode, how refusals sound, non-PSTN dials, the region numbers are read in, answer URLs)."""

from __future__ import annotations

from .model import Defaults, FailMode, NonPstnMode, RejectStyle
from .tables import Table, region, urls

_DEFAULTS_KEYS = ("fail_mode", "reject_style", "announce_voice", "announce_language", "non_pstn", "default_region", "answer_urls")


def read_defaults(table: Table | None) -> Defaults:
    """The ``[defaults]`` table (none: every default)."""
    if table is None:
        return Defaults()
    table.check_keys(_DEFAULTS_KEYS)
    default_region = table.data.get("default_region", "US")
    return Defaults(
        answer_urls=urls(table, "answer_urls"),
        fail_mode=table.choice("fail_mode", FailMode, FailMode.REJECT),
        reject_style=table.choice("reject_style", RejectStyle, RejectStyle.REJECT),
        announce_voice=table.str("announce_voice"),
        announce_language=table.str("announce_language"),
        non_pstn=table.choice("non_pstn", NonPstnMode, NonPstnMode.REJECT),
        default_region=region(table, "default_region", default_region),
    )
