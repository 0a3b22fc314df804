"""Refuse calls of a Twilio-synced account whose picture of Twilio is missing or too old, when the fail mode says so.

A synced account's permissions and caller IDs come from Twilio (``twilio = "mirror"`` or
``"stricter"``). During a Twilio outage the last good picture keeps deciding until
``CALLGUARD_TWILIO_MAX_STALENESS`` has passed since it was read; after that, and before the first
read, the policy's ``fail_mode`` decides: ``reject`` refuses the account's calls (emergency
numbers still connect: that check runs first), ``connect`` keeps deciding on what it has.
"""

from __future__ import annotations

from datetime import timedelta

from ..decision import Refusal
from ..policy.model import FailMode, TwilioMode
from .context import SKIP, DialContext, Outcome


def check_twilio(ctx: DialContext) -> Outcome:
    account = ctx.account
    if account is None or account.twilio_mode is TwilioMode.OFF:
        return SKIP
    if ctx.policy.defaults.fail_mode is not FailMode.REJECT:
        return None
    if account.twilio_synced_at is None:
        return Refusal(
            "twilio",
            "twilio.not_synced",
            f"Account {account.label} follows Twilio's settings ({account.twilio_mode.value}), which callguard has not read yet; "
            f"the fail mode refuses its calls until it has.",
        )
    if account.twilio_stale_at is not None and ctx.now >= account.twilio_stale_at:
        age = timedelta(seconds=int(ctx.now - account.twilio_synced_at))
        return Refusal(
            "twilio",
            "twilio.stale",
            f"Callguard's copy of Twilio's settings for account {account.label} is {age} old, older than it may be used; "
            f"the fail mode refuses its calls until Twilio can be read again.",
        )
    return None
