"""Refuse caller IDs that are missing, invalid, not the account's, or equal to the destination."""

from __future__ import annotations

from ..decision import Refusal
from ..numbers.dialstring import TargetKind
from .context import SKIP, DialContext, Outcome


def check_caller_id(ctx: DialContext) -> Outcome:
    account = ctx.account
    # Only PSTN dials carry a PSTN caller ID; <Client> and <Sip> dials take any identity.
    if account is None or ctx.target.kind is not TargetKind.PSTN:
        return SKIP
    caller_id = ctx.caller_id
    if caller_id is None:
        return Refusal(
            "callerid",
            "callerid.missing",
            f"No caller ID: {ctx.request.from_ or 'the request'!r} is not a phone number and account "
            f"{account.label} has no default caller ID.",
        )
    if not ctx.caller_id_valid:
        return Refusal("callerid", "callerid.invalid", f"The caller ID {caller_id!r} ({ctx.caller_id_source}) is not a valid phone number.")
    if caller_id not in account.caller_ids:
        return Refusal(
            "callerid",
            "callerid.not_owned",
            f"The caller ID {caller_id} ({ctx.caller_id_source}) is not declared for account {account.label} or its parents.",
        )
    if caller_id == ctx.target.e164:
        return Refusal("callerid", "callerid.equals_destination", f"The caller ID {caller_id} is the number being called.")
    return None
