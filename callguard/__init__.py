"""callguard: call-control middleware for Twilio voice.

The public API is re-exported here; everything else is internal and may change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .clock import Clock, FakeClock, system_clock
from .decision import Action, Decision, DialRequest, Fault, Refusal
from .engine import AuditSink, Guard, NullAudit
from .errors import (
    CallBlocked,
    CallguardError,
    ConfigError,
    MissingExtra,
    PolicyError,
    SignatureError,
    StoreUnavailable,
    TwilioSyncError,
    TwimlError,
    UpstreamError,
)
from .numbers import (
    DialTarget,
    NumberClassifier,
    NumberInfo,
    RiskCategory,
    TargetKind,
    classify_number,
    normalize_dial_string,
)
from .policy import Policy, load_policy, parse_policy
from .version import __version__
from .wrapping import GuardedClient

if TYPE_CHECKING:
    from .web import CallGuard, create_app
    from .web.middleware import GuardMiddleware


def __getattr__(name: str) -> Any:
    # The web layer (Flask, prometheus-client) is imported on first use, so that the engine can
    # be used without it and `callguard serve` can set up metrics before it is imported.
    if name in ("CallGuard", "create_app"):
        from . import web

        return getattr(web, name)
    if name == "GuardMiddleware":
        from .web.middleware import GuardMiddleware

        return GuardMiddleware
    raise AttributeError(f"module 'callguard' has no attribute {name!r}")


__all__ = [
    "__version__",
    "Action",
    "AuditSink",
    "CallBlocked",
    "CallGuard",
    "CallguardError",
    "Clock",
    "ConfigError",
    "Decision",
    "DialRequest",
    "DialTarget",
    "FakeClock",
    "Fault",
    "Guard",
    "GuardMiddleware",
    "GuardedClient",
    "MissingExtra",
    "NullAudit",
    "NumberClassifier",
    "NumberInfo",
    "Policy",
    "PolicyError",
    "Refusal",
    "RiskCategory",
    "SignatureError",
    "StoreUnavailable",
    "TargetKind",
    "TwilioSyncError",
    "TwimlError",
    "UpstreamError",
    "classify_number",
    "create_app",
    "load_policy",
    "normalize_dial_string",
    "parse_policy",
    "system_clock",
]
