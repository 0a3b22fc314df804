"""The policy's ``[campaigns.ID]`` tables: why each campaign calls, who it says is calling, how
the callee opts out, and its own calling hours, registries, answer URLs and traffic limits."""

from __future__ import annotations

import json
import re

from ..hours.rules import parse_campaign_hours
from ..traffic.policy import parse_traffic
from .model import Campaign, OptOutScope, Purpose
from .tables import HTTP_URL, Table, urls

CAMPAIGN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
REGISTRY_NAME = re.compile(r"[a-z0-9_]{1,64}")
OPT_OUT_DIGITS = frozenset("0123456789*#")
_CAMPAIGN_KEYS = (
    "purpose", "organization", "disclosure", "disclosure_url", "language", "voice", "opt_out_digit",
    "opt_out_scope", "opt_out_words", "opt_out_prompt", "confirmation", "calling_hours", "registries",
    "answer_urls", "traffic",
)


def read_campaigns(table: Table | None) -> dict[str, Campaign]:
    """The ``[campaigns]`` table (none: no campaigns), by campaign ID."""
    campaigns: dict[str, Campaign] = {}
    if table is None:
        return campaigns
    for campaign_id in table.data:
        if not CAMPAIGN_ID.fullmatch(campaign_id):
            raise table.error(campaign_id, "a campaign ID is 1 to 64 letters, digits, '_' or '-'")
        entry = table.table(campaign_id)
        assert entry is not None  # the key is there: table() reads None only for a missing one
        campaigns[campaign_id] = _read_campaign(campaign_id, entry)
    return campaigns


def _read_campaign(campaign_id: str, entry: Table) -> Campaign:
    entry.check_keys(_CAMPAIGN_KEYS)
    if "purpose" not in entry.data:
        raise entry.error("purpose", 'missing: "telemarketing" or "informational"')
    purpose = entry.choice("purpose", Purpose, Purpose.TELEMARKETING)
    organization = entry.str("organization")
    disclosure = entry.str("disclosure")
    audio = entry.str("disclosure_url", pattern=HTTP_URL, what="an absolute http(s) URL")
    if purpose is Purpose.TELEMARKETING:
        if not organization:
            raise entry.error("organization", "missing: a telemarketing campaign must say who is calling")
        if not disclosure and not audio:
            raise entry.error("disclosure", "missing: a telemarketing campaign needs disclosure text or a disclosure_url")
    digit = entry.str("opt_out_digit", "9") or "9"
    if digit not in OPT_OUT_DIGITS or len(digit) != 1:
        raise entry.error("opt_out_digit", f"{digit!r} is not one key (0-9, * or #)")
    words = entry.str_list("opt_out_words")
    registries = entry.str_list("registries")
    for index, name in enumerate(registries or ()):
        if not REGISTRY_NAME.fullmatch(name):
            raise entry.error(f"registries[{index}]", f"{name!r} is not a registry name (lower-case letters, digits, '_')")
    return Campaign(
        id=campaign_id,
        purpose=purpose,
        organization=organization or "",
        disclosure_text=disclosure,
        disclosure_audio_url=audio,
        language=entry.str("language", "en-US") or "en-US",
        voice=entry.str("voice"),
        opt_out_digit=digit,
        opt_out_scope=entry.choice("opt_out_scope", OptOutScope, OptOutScope.ACCOUNT),
        opt_out_words=tuple(w.lower() for w in words) if words is not None else None,
        opt_out_prompt=entry.str("opt_out_prompt"),
        confirmation_text=entry.str("confirmation"),
        calling_hours=parse_campaign_hours(entry.data.get("calling_hours"), source=entry.source, key=entry.key("calling_hours")),
        registries=tuple(registries) if registries is not None else None,
        answer_urls=urls(entry, "answer_urls"),
        traffic_json=_traffic_json(entry),
    )


def _traffic_json(entry: Table) -> str | None:
    """The campaign's ``traffic`` table, validated now and kept as JSON: it is applied per
    calling account, over that account's own limits."""
    table = entry.table("traffic")
    if table is None:
        return None
    parse_traffic(table.data, source=entry.source, key=table.key())
    return json.dumps(table.data, sort_keys=True, default=str)
