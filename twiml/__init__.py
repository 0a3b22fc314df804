"""The TwiML document layer: pure functions over TwiML documents, no Flask and no policy."""

from .responses import (
    RejectReason,
    dial_client,
    dial_number,
    dial_sip,
    empty,
    gather_prompt,
    hangup,
    redirect,
    reject,
    say_and_hangup,
)

__all__ = [
    "RejectReason",
    "dial_client",
    "dial_number",
    "dial_sip",
    "empty",
    "gather_prompt",
    "hangup",
    "redirect",
    "reject",
    "say_and_hangup",
]
