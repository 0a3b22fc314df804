"""The policy's ``[accounts.AC…]`` tables, and the inheritance that resolves them.

An account is read as written (:class:`DeclaredAccount`: its caller IDs, dialing permissions,
SIP Domains, suspension, Twilio mode …), then resolved once down its parent chain into the
:class:`~callguard.policy.model.Account` a check reads: permissions country by country,
caller IDs added to the parent's, suspension that a child cannot lift, regions, prefixes,
trunks, campaign and traffic limits coming down the chain unless the account sets its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import phonenumbers

from ..errors import ConfigError
from ..numbers.dialstring import DEFAULT_EXTENSION_DIGITS
from ..traffic.policy import TrafficPolicy, parse_traffic
from .model import (
    Account,
    BlockedPrefix,
    Campaign,
    Defaults,
    NonPstnMode,
    Permission,
    PrefixBlockIndex,
    TrunkSettings,
    TwilioMode,
)
from .tables import Table, describe, e164_number, format_key, region

ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
OUTSIDE_LINE_PREFIX = re.compile(r"[0-9]{1,4}")
EXTENSION_DIGITS = re.compile(r"([0-9]{1,2})(?:-([0-9]{1,2}))?")
MAX_EXTENSION_DIGITS = 15  # E.164's longest number
# The permission keys that are no region: the non-geographic calling codes (+800, +882 …).
NON_GEO_KEYS = frozenset(f"+{code}" for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)
_PERMISSION_KEYS = ("low_risk", "high_risk_special", "high_risk_tollfraud", "direct_request")
_SIP_DOMAIN_KEYS = ("outside_line_prefix", "default_region", "default_caller_id", "extension_digits")
_ACCOUNT_KEYS = (
    "name",
    "parent",
    "auth_token_env",
    "caller_ids",
    "inherit_caller_ids",
    "default_caller_id",
    "outside_line_prefix",
    "default_region",
    "suspended",
    "suspended_reason",
    "inherit_permissions",
    "permissions",
    "sip_domains",
    "non_pstn",
    "campaign",
    "traffic",
    "twilio",
    "twilio_api_key_env",
    "twilio_api_secret_env",
)


class DeclaredAccount:
    """An account as written in the file, before inheritance is resolved."""

    def __init__(self, sid: str, table: Table) -> None:
        table.check_keys(_ACCOUNT_KEYS)
        self.sid = sid
        self.table = table
        self.name = table.str("name", sid) or sid
        self.parent = table.str("parent", pattern=ACCOUNT_SID, what="an Account SID (AC + 32 hex digits)")
        if self.parent == sid:
            raise table.error("parent", "an account cannot be its own parent")
        self.auth_token_env = table.str("auth_token_env", pattern=ENV_NAME, what="an environment variable name")
        ids = table.str_list("caller_ids")
        self.caller_ids = None if ids is None else [e164_number(table, f"caller_ids[{i}]", v) for i, v in enumerate(ids)]
        self.inherit_caller_ids = table.bool("inherit_caller_ids", True)
        raw_default = table.data.get("default_caller_id")
        self.default_caller_id = None if raw_default is None else e164_number(table, "default_caller_id", raw_default)
        self.outside_line_prefix = table.str("outside_line_prefix", pattern=OUTSIDE_LINE_PREFIX, what="1 to 4 digits")
        raw_region = table.data.get("default_region")
        self.default_region = None if raw_region is None else region(table, "default_region", raw_region)
        self.suspended = table.bool("suspended", False)
        self.suspended_reason = table.str("suspended_reason")
        self.inherit_permissions = table.bool("inherit_permissions", True)
        self.permissions = _read_permissions(table.table("permissions"))
        self.campaign = table.str("campaign")
        self.traffic_table = table.table("traffic")
        raw_twilio = table.data.get("twilio")
        self.twilio = None if raw_twilio is None else table.choice("twilio", TwilioMode, TwilioMode.OFF)
        self.twilio_api_key_env = table.str("twilio_api_key_env", pattern=ENV_NAME, what="an environment variable name")
        self.twilio_api_secret_env = table.str("twilio_api_secret_env", pattern=ENV_NAME, what="an environment variable name")
        if (self.twilio_api_key_env is None) != (self.twilio_api_secret_env is None):
            missing = "twilio_api_secret_env" if self.twilio_api_secret_env is None else "twilio_api_key_env"
            raise table.error(missing, "missing: an API key needs both twilio_api_key_env and twilio_api_secret_env")
        raw_non_pstn = table.data.get("non_pstn")
        self.non_pstn = None if raw_non_pstn is None else table.choice("non_pstn", NonPstnMode, NonPstnMode.REJECT)
        self.sip_domains = _read_sip_domains(table.table("sip_domains"))


def read_accounts(table: Table | None) -> dict[str, DeclaredAccount]:
    """The ``[accounts]`` table (none: no accounts), as written, by Account SID."""
    declared: dict[str, DeclaredAccount] = {}
    if table is None:
        return declared
    for sid in table.data:
        if not ACCOUNT_SID.fullmatch(sid):
            raise table.error(sid, "not an Account SID (AC followed by 32 hex digits)")
        entry = table.table(sid)
        assert entry is not None  # the key is there: table() reads None only for a missing one
        declared[sid] = DeclaredAccount(sid, entry)
    return declared


def check_campaigns(declared: Mapping[str, DeclaredAccount], campaigns: Mapping[str, Campaign]) -> None:
    """Each account's default campaign is one the policy defines."""
    for account in declared.values():
        if account.campaign is not None and account.campaign not in campaigns:
            raise account.table.error("campaign", f"{account.campaign!r} is not a campaign in this policy")


def resolve_accounts(
    declared: Mapping[str, DeclaredAccount], defaults: Defaults, blocks: list[BlockedPrefix], traffic: TrafficPolicy
) -> dict[str, Account]:
    """Every declared account resolved down its parent chain, in the order they were declared;
    ``traffic`` is the policy-wide limits a root account inherits."""
    resolved: dict[str, Account] = {}
    for sid in declared:
        _resolve(sid, declared, defaults, blocks, resolved, traffic)
    return {sid: resolved[sid] for sid in declared}


def _read_permissions(table: Table | None) -> dict[str, Permission]:
    if table is None:
        return {}
    permissions: dict[str, Permission] = {}
    for geo_key in table.data:
        if geo_key not in NON_GEO_KEYS:
            region(table, geo_key, geo_key)
        entry = table.table(geo_key)
        assert entry is not None
        entry.check_keys(_PERMISSION_KEYS)
        permission = Permission(**{k: entry.bool(k, False) for k in _PERMISSION_KEYS})
        for high in ("high_risk_special", "high_risk_tollfraud"):
            if getattr(permission, high) and not permission.low_risk:
                raise entry.error(high, f"{high} = true needs low_risk = true (as in Twilio's Geo Permissions)")
        permissions[geo_key] = permission
    return permissions


def _read_sip_domains(domains: Table | None) -> dict[str, TrunkSettings]:
    trunks: dict[str, TrunkSettings] = {}
    if domains is None:
        return trunks
    for domain in domains.data:
        trunk = domains.table(domain)
        assert trunk is not None
        trunk.check_keys(_SIP_DOMAIN_KEYS)
        default_region = trunk.data.get("default_region")
        caller_id = trunk.data.get("default_caller_id")
        trunks[domain.lower()] = TrunkSettings(
            domain=domain.lower(),
            outside_line_prefix=trunk.str("outside_line_prefix", pattern=OUTSIDE_LINE_PREFIX, what="1 to 4 digits"),
            default_region=None if default_region is None else region(trunk, "default_region", default_region),
            default_caller_id=None if caller_id is None else e164_number(trunk, "default_caller_id", caller_id),
            extension_digits=_extension_digits(trunk, "extension_digits"),
        )
    return trunks


def _extension_digits(table: Table, name: str) -> tuple[int, int] | None:
    """A SIP Domain's ``extension_digits``: ``"4"`` or ``"2-6"`` digits, or false for none."""
    value = table.data.get(name)
    if value is None:
        return DEFAULT_EXTENSION_DIGITS
    if value is False:
        return None
    if not isinstance(value, str):
        raise table.error(name, f'expected a number of digits such as "4" or "2-6", or false, got {describe(value)}')
    match = EXTENSION_DIGITS.fullmatch(value)
    if match is None:
        raise table.error(name, f'{value!r} is not a number of digits such as "4" or "2-6"')
    shortest = int(match.group(1))
    longest = int(match.group(2) or shortest)
    if not (1 <= shortest <= MAX_EXTENSION_DIGITS and 1 <= longest <= MAX_EXTENSION_DIGITS):
        raise table.error(name, f"{value!r}: an extension has 1 to {MAX_EXTENSION_DIGITS} digits")
    if shortest > longest:
        raise table.error(name, f"{value!r}: the shorter length comes first ({longest}-{shortest})")
    return shortest, longest


def _lineage(sid: str, declared: Mapping[str, DeclaredAccount]) -> tuple[str, ...]:
    chain = [sid]
    while declared[chain[-1]].parent is not None:
        parent = declared[chain[-1]].parent
        assert parent is not None
        if parent not in declared:
            raise declared[chain[-1]].table.error("parent", f"{parent} is not an account in this policy")
        if parent in chain:
            cycle = " -> ".join([*chain[chain.index(parent):], parent])
            raise declared[sid].table.error("parent", f"parent accounts form a cycle: {cycle}")
        chain.append(parent)
    return tuple(chain)


def _resolve(
    sid: str,
    declared: Mapping[str, DeclaredAccount],
    defaults: Defaults,
    blocks: list[BlockedPrefix],
    resolved: dict[str, Account],
    traffic: TrafficPolicy,
) -> Account:
    if sid in resolved:
        return resolved[sid]
    own = declared[sid]
    lineage = _lineage(sid, declared)
    parent = _resolve(own.parent, declared, defaults, blocks, resolved, traffic) if own.parent else None

    if parent is not None and own.inherit_permissions:
        permissions = {**parent.permissions, **own.permissions}
    else:
        permissions = dict(own.permissions)

    caller_ids = set(own.caller_ids or ())
    if parent is not None and own.inherit_caller_ids:
        caller_ids |= parent.caller_ids
    default_caller_id = own.default_caller_id or (own.caller_ids[0] if own.caller_ids else None)
    if default_caller_id is None and parent is not None:
        default_caller_id = parent.default_caller_id
    if own.default_caller_id is not None and own.default_caller_id not in caller_ids:
        raise own.table.error("default_caller_id", f"{own.default_caller_id} is not among this account's caller_ids")

    suspended_by = sid if own.suspended else (parent.suspended_by if parent is not None else None)
    suspension_reason = own.suspended_reason if own.suspended else (parent.suspension_reason if parent else None)

    sip_domains = dict(parent.sip_domains) if parent is not None else {}
    sip_domains.update(own.sip_domains)
    for domain, trunk in own.sip_domains.items():
        if trunk.default_caller_id is not None and trunk.default_caller_id not in caller_ids:
            raise ConfigError(
                f"{trunk.default_caller_id} is not among this account's caller_ids",
                source=own.table.source,
                key=format_key((*own.table.path, "sip_domains", domain, "default_caller_id")),
            )

    applicable = tuple(b for b in blocks if b.account is None or b.account in lineage)
    account = Account(
        sid=sid,
        name=own.name,
        parent=own.parent,
        lineage=lineage,
        auth_token_env=own.auth_token_env,
        caller_ids=frozenset(caller_ids),
        default_caller_id=default_caller_id,
        default_region=own.default_region or (parent.default_region if parent else defaults.default_region),
        outside_line_prefix=own.outside_line_prefix or (parent.outside_line_prefix if parent else None),
        suspended=suspended_by is not None,
        suspended_by=suspended_by,
        suspension_reason=suspension_reason,
        permissions=permissions,
        sip_domains=sip_domains,
        non_pstn=own.non_pstn or (parent.non_pstn if parent else defaults.non_pstn),
        blocked=PrefixBlockIndex(applicable),
        default_campaign=own.campaign or (parent.default_campaign if parent else None),
        declared_suspended=own.suspended,
        declared_suspension_reason=own.suspended_reason,
        declared_permissions=dict(own.permissions),
        inherit_permissions=own.inherit_permissions,
        traffic=parse_traffic(
            own.traffic_table.data if own.traffic_table else None,
            source=own.table.source,
            key=own.traffic_table.key() if own.traffic_table else "",
            inherited=parent.traffic if parent is not None else traffic,
        ),
        twilio_mode=own.twilio or (parent.twilio_mode if parent else TwilioMode.OFF),
        twilio_api_key_env=own.twilio_api_key_env,
        twilio_api_secret_env=own.twilio_api_secret_env,
    )
    resolved[sid] = account
    return account
