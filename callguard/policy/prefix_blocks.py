"""The policy's ``[[blocked_prefixes]]``: E.164 prefixes no call may dial, for every account or
for one account and its subaccounts, each with a reason and an optional expiry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from ..numbers.risk import validate_e164_prefix
from .accounts import ACCOUNT_SID
from .model import BlockedPrefix
from .tables import Table, describe, timestamp


def read_blocked_prefixes(value: Any, source: str, known_accounts: Mapping[str, Any]) -> list[BlockedPrefix]:
    """The ``blocked_prefixes`` array (none: no blocks); an ``account`` must be one of ``known_accounts``."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError("expected an array of tables ([[blocked_prefixes]])", source=source, key="blocked_prefixes")
    blocks = []
    for index, item in enumerate(value):
        table = Table(item if isinstance(item, dict) else {}, (f"blocked_prefixes[{index}]",), source)
        if not isinstance(item, dict):
            raise table.error(None, f"expected a table, got {describe(item)}")
        table.check_keys(("prefix", "reason", "expires", "account"))
        if "prefix" not in item:
            raise table.error("prefix", "missing: every blocked prefix needs one, e.g. prefix = \"+2474\"")
        problem = validate_e164_prefix(item["prefix"])
        if problem:
            raise table.error("prefix", problem)
        account = table.str("account", pattern=ACCOUNT_SID, what="an Account SID (AC + 32 hex digits)")
        if account is not None and account not in known_accounts:
            raise table.error("account", f"{account} is not an account in this policy")
        expires = item.get("expires")
        blocks.append(
            BlockedPrefix(
                prefix=item["prefix"],
                reason=table.str("reason", "blocked") or "blocked",
                expires=None if expires is None else timestamp(table, "expires", expires),
                account=account,
            )
        )
    return blocks
