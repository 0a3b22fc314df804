"""Read a TOML policy file into a resolved :class:`~callguard.policy.model.Policy`.

Validation is strict: an unknown key is an error (a typo such as ``suspendd = true`` must not
silently leave an account open), and every error names the file, the dotted key and the
problem in one line, because that line is what a failed start-up and ``callguard policy
validate`` print.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

import phonenumbers

from ..errors import ConfigError
from ..hours.rules import parse_calling_hours, parse_campaign_hours
from ..traffic.policy import NO_TRAFFIC_LIMITS, TrafficPolicy, parse_alerts, parse_traffic
from ..numbers.dialstring import DEFAULT_EXTENSION_DIGITS
from ..numbers.risk import RiskCategory, RiskPrefix, shipped_risk_data, validate_e164_prefix
from .model import (
    DEFAULT_OPT_OUT_WORDS,
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

ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
OUTSIDE_LINE_PREFIX = re.compile(r"[0-9]{1,4}")
EXTENSION_DIGITS = re.compile(r"([0-9]{1,2})(?:-([0-9]{1,2}))?")
MAX_EXTENSION_DIGITS = 15  # E.164's longest number
NON_GEO_KEYS = frozenset(f"+{code}" for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)
REGION_HINTS = {"UK": "GB", "EL": "GR", "EN": "GB", "USA": "US", "CAN": "CA"}
TOP_LEVEL_KEYS = ("defaults", "accounts", "blocked_prefixes", "risk", "campaigns", "calling_hours", "traffic", "proxy")
CAMPAIGN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
REGISTRY_NAME = re.compile(r"[a-z0-9_]{1,64}")
HTTP_URL = re.compile(r"https?://[^\s/?#]+(?:[/?#]\S*)?")
OPT_OUT_DIGITS = frozenset("0123456789*#")


def _format_key(parts: Iterable[str]) -> str:
    out = []
    for part in parts:
        # Bare keys as TOML writes them, with an [index] for array items; quote the rest.
        out.append(part if re.fullmatch(r"[A-Za-z0-9_-]+(?:\[\d+\])?", part) else f'"{part}"')
    return ".".join(out)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return repr(value)


class _Table:
    """One TOML table being read; knows its dotted key for error messages."""

    def __init__(self, data: Mapping[str, Any], path: tuple[str, ...], source: str) -> None:
        self.data = data
        self.path = path
        self.source = source

    def key(self, name: str | None = None) -> str:
        return _format_key(self.path if name is None else (*self.path, name))

    def error(self, name: str | None, problem: str) -> ConfigError:
        return ConfigError(problem, source=self.source, key=self.key(name) or None)

    def check_keys(self, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for name in self.data:
            if name not in allowed:
                starts = [a for a in allowed if a.startswith(name)]
                hint = starts[:1] if len(starts) == 1 else difflib.get_close_matches(name, allowed, n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else f"; allowed: {', '.join(allowed)}"
                raise self.error(name, f"unknown key{suggestion}")

    def bool(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, f"expected true or false, got {_describe(value)}")
        return value

    def str(self, name: str, default: str | None = None, *, pattern: re.Pattern[str] | None = None, what: str = "") -> str | None:
        value = self.data.get(name, default)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(name, f"expected a string, got {_describe(value)}")
        if pattern is not None and not pattern.fullmatch(value):
            raise self.error(name, f"{value!r} is not {what}")
        return value

    def choice(self, name: str, enum_type: type, default: Any) -> Any:
        value = self.data.get(name, default.value)
        choices = [member.value for member in enum_type]
        if value not in choices:
            raise self.error(name, f"expected one of {', '.join(repr(c) for c in choices)}, got {_describe(value)}")
        return enum_type(value)

    def str_list(self, name: str) -> list[str] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(name, f"expected an array of strings, got {_describe(value)}")
        return value

    def table(self, name: str) -> "_Table | None":
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error(name, f"expected a table, got {_describe(value)}")
        return _Table(value, (*self.path, name), self.source)


def _region(table: _Table, name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise table.error(name, f"expected an ISO 3166-1 region code such as \"US\", got {_describe(value)}")
    if value not in phonenumbers.SUPPORTED_REGIONS:
        hint = REGION_HINTS.get(value.upper()) or (value.upper() if value.upper() in phonenumbers.SUPPORTED_REGIONS else None)
        suggestion = f" (did you mean {hint!r}?)" if hint else ""
        raise table.error(name, f"{value!r} is not a region phonenumbers knows{suggestion}")
    return value


def _extension_digits(table: _Table, name: str) -> tuple[int, int] | None:
    """A SIP Domain's ``extension_digits``: ``"4"`` or ``"2-6"`` digits, or false for none."""
    value = table.data.get(name)
    if value is None:
        return DEFAULT_EXTENSION_DIGITS
    if value is False:
        return None
    if not isinstance(value, str):
        raise table.error(name, f'expected a number of digits such as "4" or "2-6", or false, got {_describe(value)}')
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


def _e164_number(table: _Table, name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise table.error(name, f"expected an E.164 number such as \"+14155550100\", got {_describe(value)}")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise table.error(name, f"{value!r} is not an E.164 number (\"+\", country code, number)") from None
    canonical = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number):
        raise table.error(name, f"{value!r} is not a valid phone number")
    if canonical != value:
        raise table.error(name, f"{value!r} is not in E.164 form; write {canonical!r}")
    return canonical


def _timestamp(table: _Table, name: str, value: Any) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise table.error(name, f"{value.isoformat()} has no UTC offset; write e.g. {value.isoformat()}Z")
        return value.timestamp()
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tzinfo=timezone.utc).timestamp()
    raise table.error(name, f"expected a TOML date-time such as 2027-01-01T00:00:00Z, got {_describe(value)}")


def _urls(table: _Table, name: str) -> tuple[str, ...]:
    urls = table.str_list(name) or []
    for index, url in enumerate(urls):
        if not HTTP_URL.fullmatch(url):
            raise table.error(f"{name}[{index}]", f"{url!r} is not an absolute http(s) URL")
    return tuple(urls)


def _read_campaigns(table: _Table | None) -> dict[str, Campaign]:
    campaigns: dict[str, Campaign] = {}
    for campaign_id in (table.data if table else {}):
        if not CAMPAIGN_ID.fullmatch(campaign_id):
            raise table.error(campaign_id, "a campaign ID is 1 to 64 letters, digits, '_' or '-'")  # type: ignore[union-attr]
        entry = table.table(campaign_id)  # type: ignore[union-attr]
        assert entry is not None
        entry.check_keys(
            (
                "purpose", "organization", "disclosure", "disclosure_url", "language", "voice", "opt_out_digit",
                "opt_out_scope", "opt_out_words", "opt_out_prompt", "confirmation", "calling_hours", "registries",
                "answer_urls", "traffic",
            )
        )
        if "purpose" not in entry.data:
            raise entry.error("purpose", 'missing: "telemarketing" or "informational"')
        purpose = entry.choice("purpose", Purpose, Purpose.TELEMARKETING)
        organization = entry.str("organization")
        disclosure = entry.str("disclosure")
        audio = entry.str("disclosure_url", pattern=HTTP_URL, what="an absolute http(s) URL")
        if purpose is Purpose.TELEMARKETING:
            if not organization:
                raise entry.error("organization", "missing: a telemarketing campaign must say who is calling")
            if not disclosure and not audio:
                raise entry.error("disclosure", "missing: a telemarketing campaign needs disclosure text or a disclosure_url")
        digit = entry.str("opt_out_digit", "9") or "9"
        if digit not in OPT_OUT_DIGITS or len(digit) != 1:
            raise entry.error("opt_out_digit", f"{digit!r} is not one key (0-9, * or #)")
        words = entry.str_list("opt_out_words")
        registries = entry.str_list("registries")
        for index, name in enumerate(registries or ()):
            if not REGISTRY_NAME.fullmatch(name):
                raise entry.error(f"registries[{index}]", f"{name!r} is not a registry name (lower-case letters, digits, '_')")
        campaigns[campaign_id] = Campaign(
            id=campaign_id,
            purpose=purpose,
            organization=organization or "",
            disclosure_text=disclosure,
            disclosure_audio_url=audio,
            language=entry.str("language", "en-US") or "en-US",
            voice=entry.str("voice"),
            opt_out_digit=digit,
            opt_out_scope=entry.choice("opt_out_scope", OptOutScope, OptOutScope.ACCOUNT),
            opt_out_words=tuple(w.lower() for w in words) if words is not None else DEFAULT_OPT_OUT_WORDS,
            opt_out_prompt=entry.str("opt_out_prompt"),
            confirmation_text=entry.str("confirmation"),
            calling_hours=parse_campaign_hours(entry.data.get("calling_hours"), source=entry.source, key=entry.key("calling_hours")),
            registries=tuple(registries) if registries is not None else None,
            answer_urls=_urls(entry, "answer_urls"),
            traffic_json=_campaign_traffic(entry),
        )
    return campaigns


def _campaign_traffic(entry: _Table) -> str | None:
    table = entry.table("traffic")
    if table is None:
        return None
    parse_traffic(table.data, source=entry.source, key=table.key())  # validated now, applied per calling account
    return json.dumps(table.data, sort_keys=True, default=str)


# The paths callguard serves itself: a proxy route may not take them over.
CALLGUARD_PATHS = ("/voice/outbound", "/voice/status", "/voice/disclosure", "/voice/optout", "/voice/answer", "/healthz", "/metrics")
CALLGUARD_PREFIXES = ("/v1/",)
ROUTE_PATH = re.compile(r"/(?:[A-Za-z0-9._~!$&'()*+,;=:@%-]+/?)*")
# Twilio gives up on a webhook after 15 seconds; callguard must answer before that.
TWILIO_WEBHOOK_SECONDS = 15.0
DEFAULT_CONNECT_TIMEOUT = 2.0
DEFAULT_READ_TIMEOUT = 8.0


def _seconds(table: _Table, name: str, default: float) -> float:
    value = table.data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= TWILIO_WEBHOOK_SECONDS:
        raise table.error(name, f"expected a number of seconds above 0 and at most {TWILIO_WEBHOOK_SECONDS:g}, got {_describe(value)}")
    return float(value)


def _route_path(table: _Table) -> str:
    path = table.str("path")
    if path is None:
        raise table.error("path", 'missing: the callguard path Twilio calls, e.g. path = "/voice/sales"')
    if not ROUTE_PATH.fullmatch(path) or path == "/" or "//" in path:
        raise table.error("path", f"{path!r} is not a URL path such as \"/voice/sales\" (or \"/sales/\" for every path under it)")
    for own in CALLGUARD_PATHS:
        if own == path or (path.endswith("/") and own.startswith(path)):
            raise table.error("path", f"{path!r} would take over callguard's own {own}")
    for own in CALLGUARD_PREFIXES:
        if path.startswith(own) or own.startswith(path):
            raise table.error("path", f"{path!r} would take over callguard's own {own}")
    return path


def _read_proxy(table: _Table | None, campaigns: Mapping[str, Campaign]) -> ProxyRoutes:
    if table is None:
        return ProxyRoutes()
    table.check_keys(("connect_timeout", "read_timeout", "routes"))
    connect_default = _seconds(table, "connect_timeout", DEFAULT_CONNECT_TIMEOUT)
    read_default = _seconds(table, "read_timeout", DEFAULT_READ_TIMEOUT)
    raw_routes = table.data.get("routes", [])
    if not isinstance(raw_routes, list):
        raise table.error("routes", "expected an array of tables ([[proxy.routes]])")
    routes: list[ProxyRoute] = []
    seen: set[str] = set()
    for index, item in enumerate(raw_routes):
        entry = _Table(item if isinstance(item, dict) else {}, (*table.path, f"routes[{index}]"), table.source)
        if not isinstance(item, dict):
            raise entry.error(None, f"expected a table, got {_describe(item)}")
        entry.check_keys(("path", "upstream", "campaign", "connect_timeout", "read_timeout"))
        path = _route_path(entry)
        if path in seen:
            raise entry.error("path", f"{path!r} is routed twice")
        seen.add(path)
        upstream = entry.str("upstream", pattern=HTTP_URL, what="an absolute http(s) URL")
        if upstream is None:
            raise entry.error("upstream", 'missing: the app\'s URL, e.g. upstream = "https://app.example.com/voice"')
        if "?" in upstream or "#" in upstream:
            raise entry.error("upstream", f"{upstream!r} has a query or fragment; the query Twilio sends is passed on")
        if path.endswith("/") and not upstream.endswith("/"):
            raise entry.error("upstream", f"{upstream!r} must end with '/' like the prefix path {path!r}")
        campaign = entry.str("campaign")
        if campaign is not None and campaign not in campaigns:
            raise entry.error("campaign", f"{campaign!r} is not a campaign in this policy")
        connect_timeout = _seconds(entry, "connect_timeout", connect_default)
        read_timeout = _seconds(entry, "read_timeout", read_default)
        if connect_timeout + read_timeout >= TWILIO_WEBHOOK_SECONDS:
            raise entry.error(
                "read_timeout",
                f"connect_timeout + read_timeout is {connect_timeout + read_timeout:g} s: Twilio gives up after "
                f"{TWILIO_WEBHOOK_SECONDS:g} s, so keep it below that",
            )
        routes.append(ProxyRoute(path, upstream, connect_timeout, read_timeout, campaign))
    return ProxyRoutes(tuple(routes))


def _read_defaults(table: _Table | None) -> Defaults:
    if table is None:
        return Defaults()
    table.check_keys(("fail_mode", "reject_style", "announce_voice", "announce_language", "non_pstn", "default_region", "answer_urls"))
    default_region = table.data.get("default_region", "US")
    return Defaults(
        answer_urls=_urls(table, "answer_urls"),
        fail_mode=table.choice("fail_mode", FailMode, FailMode.REJECT),
        reject_style=table.choice("reject_style", RejectStyle, RejectStyle.REJECT),
        announce_voice=table.str("announce_voice"),
        announce_language=table.str("announce_language"),
        non_pstn=table.choice("non_pstn", NonPstnMode, NonPstnMode.REJECT),
        default_region=_region(table, "default_region", default_region),
    )


def _read_risk(table: _Table | None) -> tuple[list[RiskPrefix], bool, frozenset[str] | None]:
    if table is None:
        return [], True, None
    categories = [c.value for c in RiskCategory]
    table.check_keys(("keep_shipped", "direct_request_countries", *categories))
    overrides: list[RiskPrefix] = []
    seen: dict[str, str] = {}
    for category in categories:
        for index, prefix in enumerate(table.str_list(category) or ()):
            problem = validate_e164_prefix(prefix)
            if problem:
                raise table.error(f"{category}[{index}]", problem)
            if prefix in seen:
                raise table.error(f"{category}[{index}]", f"{prefix} is also listed under {seen[prefix]}")
            seen[prefix] = category
            overrides.append(RiskPrefix(prefix, RiskCategory(category), f"policy {table.source}"))
    countries = table.str_list("direct_request_countries")
    direct = None
    if countries is not None:
        direct = frozenset(_region(table, f"direct_request_countries[{i}]", c) for i, c in enumerate(countries))
    return overrides, table.bool("keep_shipped", True), direct


_PERMISSION_KEYS = ("low_risk", "high_risk_special", "high_risk_tollfraud", "direct_request")


def _read_permissions(table: _Table | None) -> dict[str, Permission]:
    if table is None:
        return {}
    permissions: dict[str, Permission] = {}
    for geo_key in table.data:
        if geo_key not in NON_GEO_KEYS:
            _region(table, geo_key, geo_key)
        entry = table.table(geo_key)
        assert entry is not None
        entry.check_keys(_PERMISSION_KEYS)
        permission = Permission(**{k: entry.bool(k, False) for k in _PERMISSION_KEYS})
        for high in ("high_risk_special", "high_risk_tollfraud"):
            if getattr(permission, high) and not permission.low_risk:
                raise entry.error(high, f"{high} = true needs low_risk = true (as in Twilio's Geo Permissions)")
        permissions[geo_key] = permission
    return permissions


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


class _DeclaredAccount:
    """An account as written in the file, before inheritance is resolved."""

    def __init__(self, sid: str, table: _Table) -> None:
        table.check_keys(_ACCOUNT_KEYS)
        self.sid = sid
        self.table = table
        self.name = table.str("name", sid) or sid
        self.parent = table.str("parent", pattern=ACCOUNT_SID, what="an Account SID (AC + 32 hex digits)")
        if self.parent == sid:
            raise table.error("parent", "an account cannot be its own parent")
        self.auth_token_env = table.str("auth_token_env", pattern=ENV_NAME, what="an environment variable name")
        ids = table.str_list("caller_ids")
        self.caller_ids = None if ids is None else [_e164_number(table, f"caller_ids[{i}]", v) for i, v in enumerate(ids)]
        self.inherit_caller_ids = table.bool("inherit_caller_ids", True)
        raw_default = table.data.get("default_caller_id")
        self.default_caller_id = None if raw_default is None else _e164_number(table, "default_caller_id", raw_default)
        self.outside_line_prefix = table.str("outside_line_prefix", pattern=OUTSIDE_LINE_PREFIX, what="1 to 4 digits")
        raw_region = table.data.get("default_region")
        self.default_region = None if raw_region is None else _region(table, "default_region", raw_region)
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
        self.sip_domains: dict[str, TrunkSettings] = {}
        domains = table.table("sip_domains")
        for domain in (domains.data if domains else {}):
            trunk = domains.table(domain)  # type: ignore[union-attr]
            assert trunk is not None
            trunk.check_keys(("outside_line_prefix", "default_region", "default_caller_id", "extension_digits"))
            region = trunk.data.get("default_region")
            caller_id = trunk.data.get("default_caller_id")
            self.sip_domains[domain.lower()] = TrunkSettings(
                domain=domain.lower(),
                outside_line_prefix=trunk.str("outside_line_prefix", pattern=OUTSIDE_LINE_PREFIX, what="1 to 4 digits"),
                default_region=None if region is None else _region(trunk, "default_region", region),
                default_caller_id=None if caller_id is None else _e164_number(trunk, "default_caller_id", caller_id),
                extension_digits=_extension_digits(trunk, "extension_digits"),
            )


def _read_blocks(value: Any, source: str, known_accounts: Mapping[str, Any]) -> list[BlockedPrefix]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError("expected an array of tables ([[blocked_prefixes]])", source=source, key="blocked_prefixes")
    blocks = []
    for index, item in enumerate(value):
        table = _Table(item if isinstance(item, dict) else {}, (f"blocked_prefixes[{index}]",), source)
        if not isinstance(item, dict):
            raise table.error(None, f"expected a table, got {_describe(item)}")
        table.check_keys(("prefix", "reason", "expires", "account"))
        if "prefix" not in item:
            raise table.error("prefix", "missing: every blocked prefix needs one, e.g. prefix = \"+2474\"")
        problem = validate_e164_prefix(item["prefix"])
        if problem:
            raise table.error("prefix", problem)
        account = table.str("account", pattern=ACCOUNT_SID, what="an Account SID (AC + 32 hex digits)")
        if account is not None and account not in known_accounts:
            raise table.error("account", f"{account} is not an account in this policy")
        expires = item.get("expires")
        blocks.append(
            BlockedPrefix(
                prefix=item["prefix"],
                reason=table.str("reason", "blocked") or "blocked",
                expires=None if expires is None else _timestamp(table, "expires", expires),
                account=account,
            )
        )
    return blocks


def _lineage(sid: str, declared: Mapping[str, _DeclaredAccount]) -> tuple[str, ...]:
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
    declared: Mapping[str, _DeclaredAccount],
    defaults: Defaults,
    blocks: list[BlockedPrefix],
    resolved: dict[str, Account],
    traffic: TrafficPolicy = NO_TRAFFIC_LIMITS,
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
                key=_format_key((*own.table.path, "sip_domains", domain, "default_caller_id")),
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


def parse_policy(data: Mapping[str, Any], *, source: str = "<policy>") -> Policy:
    """Validate and resolve a policy already read from TOML."""
    root = _Table(data, (), source)
    root.check_keys(TOP_LEVEL_KEYS)
    defaults = _read_defaults(root.table("defaults"))
    overrides, keep_shipped, direct = _read_risk(root.table("risk"))
    shipped = shipped_risk_data()

    accounts_table = root.table("accounts")
    declared: dict[str, _DeclaredAccount] = {}
    for sid in (accounts_table.data if accounts_table else {}):
        if not ACCOUNT_SID.fullmatch(sid):
            raise ConfigError("not an Account SID (AC followed by 32 hex digits)", source=source, key=_format_key(("accounts", sid)))
        table = accounts_table.table(sid)  # type: ignore[union-attr]
        assert table is not None
        declared[sid] = _DeclaredAccount(sid, table)

    campaigns = _read_campaigns(root.table("campaigns"))
    proxy = _read_proxy(root.table("proxy"), campaigns)
    for sid, account in declared.items():
        if account.campaign is not None and account.campaign not in campaigns:
            raise account.table.error("campaign", f"{account.campaign!r} is not a campaign in this policy")
    calling_hours_table = root.table("calling_hours")
    calling_hours = parse_calling_hours(calling_hours_table.data if calling_hours_table else None, source=source)

    traffic_table = root.table("traffic")
    traffic = parse_traffic(traffic_table.data if traffic_table else None, source=source, key="traffic", top_level=True)
    alert_webhook = parse_alerts(traffic_table.data.get("alerts") if traffic_table else None, source=source)

    blocks = _read_blocks(data.get("blocked_prefixes"), source, declared)
    resolved: dict[str, Account] = {}
    for sid in declared:
        _resolve(sid, declared, defaults, blocks, resolved, traffic)

    return Policy(
        source=source,
        defaults=defaults,
        accounts={sid: resolved[sid] for sid in declared},
        blocked_prefixes=tuple(blocks),
        risk_table=shipped.table.with_overrides(overrides, keep_shipped=keep_shipped),
        direct_request_countries=direct if direct is not None else shipped.direct_request_countries,
        global_blocks=PrefixBlockIndex(tuple(b for b in blocks if b.account is None)),
        campaigns=campaigns,
        calling_hours=calling_hours,
        traffic=traffic,
        alert_webhook=alert_webhook,
        proxy=proxy,
    )


_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read, validate and resolve the policy file at ``path``."""
    source = os.fspath(path)
    try:
        raw = Path(source).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the policy file: {exc.strerror or exc}", source=source) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError("the policy file is not UTF-8", source=source, line=line) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        line = int(match.group(1)) if match else None
        problem = _TOML_POSITION.sub("", message).strip()
        if match:
            problem = f"{problem} (column {match.group(2)})"
        raise ConfigError(f"TOML syntax error: {problem}", source=source, line=line) from None
    return parse_policy(data, source=source)
