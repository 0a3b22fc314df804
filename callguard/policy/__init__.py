"""The policy: accounts, permissions, caller IDs, prefix blocks, campaigns and calling hours, loaded from TOML."""

from .loader import load_policy, parse_policy
from .model import (
    Account,
    BlockedPrefix,
    Campaign,
    Defaults,
    FailMode,
    NonPstnMode,
    OptOutScope,
    Permission,
    Policy,
    PrefixBlockIndex,
    ProxyRoute,
    ProxyRoutes,
    Purpose,
    RejectStyle,
    TrunkSettings,
    TwilioMode,
)

__all__ = [
    "Account",
    "BlockedPrefix",
    "Campaign",
    "Defaults",
    "FailMode",
    "NonPstnMode",
    "OptOutScope",
    "Permission",
    "Policy",
    "PrefixBlockIndex",
    "ProxyRoute",
    "ProxyRoutes",
    "Purpose",
    "RejectStyle",
    "TrunkSettings",
    "TwilioMode",
    "load_policy",
    "parse_policy",
]
