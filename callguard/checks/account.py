"""Refuse calls from accounts the policy does not know, and from suspended accounts."""

from __future__ import annotations

from ..decision import Refusal
from .context import DialContext, Outcome


def check_account(ctx: DialContext) -> Outcome:
    account = ctx.account
    if account is None:
        sid = ctx.request.account_sid or "(none)"
        return Refusal("account", "account.unknown", f"Account {sid} is not in the policy, so it may not place calls.")
    if account.suspended:
        why = f": {account.suspension_reason}" if account.suspension_reason else ""
        if account.suspended_by == account.sid:
            return Refusal("account", "account.suspended", f"Account {account.label} is suspended{why}.")
        return Refusal(
            "account",
            "account.suspended",
            f"Account {account.label} is suspended because its parent account {account.suspended_by} is{why}.",
        )
    return None
