"""The TwiML document layer: pure functions over TwiML documents, no Flask and no policy.

It imports nothing of callguard (nor twilio): its one error is :class:`~twiml.errors.TwimlError`.

- :mod:`twiml.responses` builds the documents callguard answers with;
- :mod:`twiml.document` parses TwiML someone else wrote, safely, and writes it back;
- :mod:`twiml.dials` finds every target a document dials;
- :mod:`twiml.rewrite` makes the changes policy asks for, and no others.
"""

from .dials import DialTargetNode, NounKind, dial_targets, find_dial_targets
from .document import MAX_DOCUMENT_BYTES, TwimlDocument, local_name, parse_twiml
from .errors import TwimlError
from .responses import (
    RejectReason,
    dial_client,
    dial_conference,
    dial_number,
    dial_queue,
    dial_sip,
    empty,
    gather_prompt,
    hangup,
    redirect,
    reject,
    say_and_hangup,
)

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "DialTargetNode",
    "NounKind",
    "RejectReason",
    "TwimlDocument",
    "TwimlError",
    "dial_client",
    "dial_conference",
    "dial_number",
    "dial_queue",
    "dial_sip",
    "dial_targets",
    "empty",
    "find_dial_targets",
    "gather_prompt",
    "hangup",
    "local_name",
    "parse_twiml",
    "redirect",
    "reject",
    "say_and_hangup",
]
