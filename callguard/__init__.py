"""callguard: call-control middleware for Twilio voice.

The public API is re-exported here; everything else is internal and may change.
"""

from __future__ import annotations

from .clock import Clock, FakeClock, system_clock
from .decision import Action, Decision, DialRequest, Refusal
from .engine import AuditSink, Guard, NullAudit
from .errors import CallguardError, ConfigError, PolicyError, SignatureError, StoreUnavailable
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
from .web import CallGuard, create_app

__all__ = [
    "__version__",
    "Action",
    "AuditSink",
    "CallGuard",
    "CallguardError",
    "Clock",
    "ConfigError",
    "Decision",
    "DialRequest",
    "DialTarget",
    "FakeClock",
    "Guard",
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
    "classify_number",
    "create_app",
    "load_policy",
    "normalize_dial_string",
    "parse_policy",
    "system_clock",
]
