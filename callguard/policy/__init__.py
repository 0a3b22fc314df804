"""The policy: accounts, permissions, caller IDs, prefix blocks and defaults, loaded from TOML."""

from .loader import load_policy, parse_policy
from .model import (
    Account,
    BlockedPrefix,
    Defaults,
    FailMode,
    NonPstnMode,
    Permission,
    Policy,
    PrefixBlockIndex,
    RejectStyle,
    TrunkSettings,
)

__all__ = [
    "Account",
    "BlockedPrefix",
    "Defaults",
    "FailMode",
    "NonPstnMode",
    "Permission",
    "Policy",
    "PrefixBlockIndex",
    "RejectStyle",
    "TrunkSettings",
    "load_policy",
    "parse_policy",
]
