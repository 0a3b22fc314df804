"""The TwiML document layer: pure functions over TwiML documents, no Flask and no policy."""

from .responses import RejectReason, dial_client, dial_number, dial_sip, reject, say_and_hangup

__all__ = ["RejectReason", "dial_client", "dial_number", "dial_sip", "reject", "say_and_hangup"]
