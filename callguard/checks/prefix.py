"""Refuse numbers under a blocked prefix (global, or for the account or one of its parents)."""

from __future__ import annotations

from datetime import UTC, datetime

from ..decision import Refusal
from .context import SKIP, DialContext, Outcome


def check_prefix(ctx: DialContext) -> Outcome:
    e164 = ctx.target.e164
    if e164 is None or not ctx.target.is_pstn:
        return SKIP
    index = ctx.account.blocked if ctx.account is not None else ctx.policy.global_blocks
    block = index.match(e164, ctx.now)
    if block is None:
        return None
    scope = "for every account" if block.account is None else f"for account {block.account}"
    until = ""
    if block.expires is not None:
        until = f" until {datetime.fromtimestamp(block.expires, tz=UTC).strftime('%Y-%m-%d %H:%M UTC')}"
    return Refusal("prefix", "prefix.blocked", f"{e164} is under the blocked prefix {block.prefix} {scope}{until}: {block.reason}.")
