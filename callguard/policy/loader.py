"""Read a TOML policy file into a resolved :class:`~callguard.policy.model.Policy`.

:func:`load_policy` reads the file (an unreadable, non-UTF-8 or malformed one is a one-line
error with its line); :func:`parse_policy` reads each top-level table through the module that
owns it (:mod:`.defaults`, :mod:`.risk_overrides`, :mod:`.accounts`, :mod:`.campaigns`,
:mod:`.proxy_routes`, :mod:`.prefix_blocks`; calling hours, limits on calls to one consumer and
traffic limits are parsed by :mod:`callguard.hours` and :mod:`callguard.traffic`), in the order that makes a cross-reference
(an account's campaign, a block's account) checkable, then resolves the account tree.
Validation is strict and every error names the file, the dotted key and the problem in one
line (:mod:`.tables`).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..hours.contact_limits import parse_contact_limits
from ..hours.rules import parse_calling_hours
from ..numbers.risk import shipped_risk_data
from ..traffic.policy import parse_alerts, parse_traffic
from .accounts import check_campaigns, read_accounts, resolve_accounts
from .campaigns import read_campaigns
from .defaults import read_defaults
from .model import Policy, PrefixBlockIndex
from .prefix_blocks import read_blocked_prefixes
from .proxy_routes import read_proxy
from .risk_overrides import read_risk
from .tables import Table

TOP_LEVEL_KEYS = (
    "defaults", "accounts", "blocked_prefixes", "risk", "campaigns", "calling_hours", "contact_limits", "traffic", "proxy",
)
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse_policy(data: Mapping[str, Any], *, source: str = "<policy>") -> Policy:
    """Validate and resolve a policy already read from TOML."""
    root = Table(data, (), source)
    root.check_keys(TOP_LEVEL_KEYS)
    defaults = read_defaults(root.table("defaults"))
    overrides, keep_shipped, direct = read_risk(root.table("risk"))
    shipped = shipped_risk_data()

    declared = read_accounts(root.table("accounts"))
    campaigns = read_campaigns(root.table("campaigns"))
    proxy = read_proxy(root.table("proxy"), campaigns)
    check_campaigns(declared, campaigns)
    calling_hours_table = root.table("calling_hours")
    calling_hours = parse_calling_hours(calling_hours_table.data if calling_hours_table else None, source=source)
    contact_limits_table = root.table("contact_limits")
    contact_limits = parse_contact_limits(contact_limits_table.data if contact_limits_table else None, source=source)

    traffic_table = root.table("traffic")
    traffic = parse_traffic(traffic_table.data if traffic_table else None, source=source, key="traffic", top_level=True)
    alert_webhook = parse_alerts(traffic_table.data.get("alerts") if traffic_table else None, source=source)

    blocks = read_blocked_prefixes(data.get("blocked_prefixes"), source, declared)
    return Policy(
        source=source,
        defaults=defaults,
        accounts=resolve_accounts(declared, defaults, blocks, traffic),
        blocked_prefixes=tuple(blocks),
        risk_table=shipped.table.with_overrides(overrides, keep_shipped=keep_shipped),
        direct_request_countries=direct if direct is not None else shipped.direct_request_countries,
        global_blocks=PrefixBlockIndex(tuple(b for b in blocks if b.account is None)),
        campaigns=campaigns,
        calling_hours=calling_hours,
        contact_limits=contact_limits,
        traffic=traffic,
        alert_webhook=alert_webhook,
        proxy=proxy,
    )


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read, validate and resolve the policy file at ``path``."""
    source = os.fspath(path)
    try:
        raw = Path(source).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the policy file: {exc.strerror or exc}", source=source) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError("the policy file is not UTF-8", source=source, line=line) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        problem = _TOML_POSITION.sub("", message).strip()
        if match:
            problem = f"{problem} (column {match.group(2)})"
        raise ConfigError(f"TOML syntax error: {problem}", source=source, line=int(match.group(1)) if match else None) from None
    return parse_policy(data, source=source)
