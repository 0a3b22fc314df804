"""Runtime changes on top of the policy file: suspensions and prefix blocks made while running.

The TOML file is what an operator wrote; suspensions and blocks made through the CLI, the
admin API or a traffic trigger live in the database (:mod:`callguard.store.overrides`) and are
laid over it here. The result is an ordinary :class:`Policy`, resolved the same way: a
suspension binds the account's subaccounts, a block applies to the account's family below it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from .model import Account, BlockedPrefix, Permission, Policy, PrefixBlockIndex


@dataclass(frozen=True)
class AccountOverride:
    """An account's suspension as last set at runtime (overriding the file either way)."""

    suspended: bool
    reason: str | None = None


@dataclass(frozen=True)
class Overrides:
    version: int = 0
    accounts: Mapping[str, AccountOverride] = field(default_factory=dict)
    blocks: tuple[BlockedPrefix, ...] = ()
    # (account SID, country or "+code") -> the permission set at runtime, replacing the file's entry
    permissions: Mapping[tuple[str, str], Permission] = field(default_factory=dict)


NO_OVERRIDES = Overrides()


def apply_overrides(policy: Policy, overrides: Overrides) -> Policy:
    """``policy`` with ``overrides`` laid over it."""
    if not overrides.accounts and not overrides.blocks and not overrides.permissions:
        return policy
    permissions = _effective_permissions(policy, overrides)

    def own(account: Account) -> tuple[bool, str | None]:
        change = overrides.accounts.get(account.sid)
        if change is not None:
            return change.suspended, change.reason
        return account.declared_suspended, account.declared_suspension_reason

    accounts: dict[str, Account] = {}
    for sid, account in policy.accounts.items():
        suspended_by, reason = None, None
        for ancestor in account.lineage:
            ancestor_account = policy.accounts.get(ancestor)
            if ancestor_account is None:
                continue
            is_suspended, why = own(ancestor_account)
            if is_suspended:
                suspended_by, reason = ancestor, why
                break
        extra = tuple(b for b in overrides.blocks if b.account is None or b.account in account.lineage)
        accounts[sid] = dataclasses.replace(
            account,
            suspended=suspended_by is not None,
            suspended_by=suspended_by,
            suspension_reason=reason,
            blocked=PrefixBlockIndex(account.blocked.blocks + extra) if extra else account.blocked,
            permissions=permissions[sid],
        )
    global_extra = tuple(b for b in overrides.blocks if b.account is None)
    return dataclasses.replace(
        policy,
        accounts=accounts,
        blocked_prefixes=policy.blocked_prefixes + overrides.blocks,
        global_blocks=PrefixBlockIndex(policy.global_blocks.blocks + global_extra) if global_extra else policy.global_blocks,
    )


def _effective_permissions(policy: Policy, overrides: Overrides) -> dict[str, Mapping[str, Permission]]:
    """Permissions re-resolved down each family with runtime entries replacing the file's."""
    own: dict[str, dict[str, Permission]] = {sid: dict(a.declared_permissions) for sid, a in policy.accounts.items()}
    for (sid, geo_key), permission in overrides.permissions.items():
        if sid in own:
            own[sid][geo_key] = permission
    effective: dict[str, Mapping[str, Permission]] = {}
    for sid, account in sorted(policy.accounts.items(), key=lambda item: len(item[1].lineage)):  # parents first
        inherited = effective.get(account.parent, {}) if account.parent and account.inherit_permissions else {}
        effective[sid] = {**inherited, **own[sid]}
    return effective
