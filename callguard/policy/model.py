"""The policy snapshot the engine decides against.

A :class:`Policy` is immutable and fully resolved: subaccount inheritance (permissions, caller
IDs, suspension, regions, prefix blocks) is worked out once when the policy is loaded, so a
check reads one :class:`Account` and never walks a parent chain on the hot path.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..hours.contact_limits import ContactLimits, shipped_contact_limits
from ..hours.rules import CallingHours, shipped_calling_hours
from ..hours.windows import WeeklyWindows
from ..numbers.dialstring import DEFAULT_EXTENSION_DIGITS
from ..numbers.risk import RiskCategory, RiskTable
from ..traffic.policy import NO_TRAFFIC_LIMITS, TrafficPolicy
from .revocation import ENGLISH, prompt_language, revocation_words


class FailMode(enum.StrEnum):
    """What an internal fault does to a non-emergency call."""

    REJECT = "reject"
    CONNECT = "connect"


class RejectStyle(enum.StrEnum):
    """How a refusal is rendered: ``<Reject reason="rejected"/>`` or ``<Say>`` then ``<Hangup/>``."""

    REJECT = "reject"
    ANNOUNCE = "announce"


class NonPstnMode(enum.StrEnum):
    """What to do with dials to ``client:`` identities and SIP endpoints that are not numbers."""

    REJECT = "reject"
    CONNECT = "connect"


class TwilioMode(enum.StrEnum):
    """How an account's picture synced from Twilio combines with the policy (``twilio = ...``)."""

    OFF = "off"  # the policy alone
    MIRROR = "mirror"  # dialing permissions and caller IDs are Twilio's
    STRICTER = "stricter"  # the policy's AND Twilio's: never more than either allows


class Purpose(enum.StrEnum):
    """Why a campaign calls: only telemarketing runs the DNC, hours and disclosure rules."""

    TELEMARKETING = "telemarketing"
    INFORMATIONAL = "informational"


class OptOutScope(enum.StrEnum):
    """What an opt-out taken by a campaign's prompt covers."""

    ACCOUNT = "account"  # every campaign of the account family (the default, and what the FCC expects)
    CAMPAIGN = "campaign"  # this campaign only


@dataclass(frozen=True)
class Campaign:
    """A named campaign: why it calls, who it says is calling, and its own limits."""

    id: str
    purpose: Purpose
    organization: str
    disclosure_text: str | None = None
    disclosure_audio_url: str | None = None
    language: str = "en-US"
    voice: str | None = None
    opt_out_digit: str = "9"
    opt_out_scope: OptOutScope = OptOutScope.ACCOUNT
    # Said at the prompt, each revokes consent; by default the words of the campaign's language
    # (none for a language callguard ships no words for): see policy.revocation.
    opt_out_words: tuple[str, ...] | None = None
    opt_out_prompt: str | None = None
    confirmation_text: str | None = None
    calling_hours: WeeklyWindows | None = None
    registries: tuple[str, ...] | None = None  # None: every loaded registry covering the callee
    answer_urls: tuple[str, ...] = ()
    # The campaign's [traffic] table as canonical JSON, laid over the calling account's policy
    # (a string, so the result can be cached per account).
    traffic_json: str | None = None

    @property
    def telemarketing(self) -> bool:
        return self.purpose is Purpose.TELEMARKETING

    @property
    def revocation_words(self) -> tuple[str, ...]:
        """The words that, said at the prompt, revoke consent: the policy's, else its language's."""
        return self.opt_out_words if self.opt_out_words is not None else revocation_words(self.language)

    @property
    def speech_opt_out(self) -> bool:
        """Whether the prompt listens for revocation words (there are some for its language)."""
        return bool(self.revocation_words)

    def prompt_text(self) -> str:
        if self.opt_out_prompt:
            return self.opt_out_prompt
        spoken = prompt_language(self.language)
        if spoken is not None and self.speech_opt_out:
            return spoken.prompt.format(key=spoken.keys.get(self.opt_out_digit, self.opt_out_digit))
        digit = {"*": "star", "#": "pound"}.get(self.opt_out_digit, self.opt_out_digit)
        return f"To stop receiving these calls, press {digit} now."

    def confirmation(self) -> str:
        if self.confirmation_text:
            return self.confirmation_text
        spoken = prompt_language(self.language) or prompt_language(ENGLISH)
        assert spoken is not None  # English is shipped
        return spoken.confirmation.format(organization=self.organization)


@dataclass(frozen=True, slots=True)
class Permission:
    """Dialing permission for one country (or non-geographic calling code)."""

    low_risk: bool = False
    high_risk_special: bool = False
    high_risk_tollfraud: bool = False
    direct_request: bool = False

    def allows(self, category: RiskCategory) -> bool:
        if category is RiskCategory.LOW_RISK:
            return self.low_risk
        if category is RiskCategory.HIGH_RISK_SPECIAL:
            return self.high_risk_special
        return self.high_risk_tollfraud


NO_PERMISSION = Permission()


@dataclass(frozen=True, slots=True)
class BlockedPrefix:
    """A blocked E.164 prefix; global when ``account`` is None. ``expires`` is epoch seconds."""

    prefix: str
    reason: str
    expires: float | None = None
    account: str | None = None

    def active(self, now: float) -> bool:
        return self.expires is None or now < self.expires


@dataclass(frozen=True)
class PrefixBlockIndex:
    """Blocked prefixes that apply to one account, indexed for longest-prefix lookup."""

    blocks: tuple[BlockedPrefix, ...] = ()
    _by_prefix: Mapping[str, tuple[BlockedPrefix, ...]] = field(init=False, repr=False, compare=False)
    _lengths: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_prefix: dict[str, list[BlockedPrefix]] = {}
        for block in self.blocks:
            by_prefix.setdefault(block.prefix, []).append(block)
        object.__setattr__(self, "_by_prefix", {p: tuple(b) for p, b in by_prefix.items()})
        object.__setattr__(self, "_lengths", tuple(sorted({len(p) for p in by_prefix}, reverse=True)))

    def match(self, e164: str, now: float) -> BlockedPrefix | None:
        """The active block with the longest prefix of ``e164``, or None."""
        by_prefix = self._by_prefix
        for length in self._lengths:
            if length <= len(e164):
                for block in by_prefix.get(e164[:length], ()):
                    if block.active(now):
                        return block
        return None


@dataclass(frozen=True)
class TrunkSettings:
    """Per-SIP-Domain overrides, selected by the webhook's ``SipDomain`` parameter.

    ``extension_digits`` is the (shortest, longest) count of digits of a SIP user part that
    names an extension (a SIP target, decided by ``non_pstn``) rather than a number; None: every
    user part of digits is a number.
    """

    domain: str
    outside_line_prefix: str | None = None
    default_region: str | None = None
    default_caller_id: str | None = None
    extension_digits: tuple[int, int] | None = DEFAULT_EXTENSION_DIGITS


@dataclass(frozen=True)
class Account:
    """One account or subaccount, with everything it inherits already resolved."""

    sid: str
    name: str
    parent: str | None
    lineage: tuple[str, ...]  # this account, its parent, its grandparent …
    auth_token_env: str | None
    caller_ids: frozenset[str]
    default_caller_id: str | None
    default_region: str
    outside_line_prefix: str | None
    suspended: bool
    suspended_by: str | None
    suspension_reason: str | None
    permissions: Mapping[str, Permission]
    sip_domains: Mapping[str, TrunkSettings]
    non_pstn: NonPstnMode
    blocked: PrefixBlockIndex
    default_campaign: str | None = None
    # What the policy file itself says of this account, before inheritance and runtime changes.
    declared_suspended: bool = False
    declared_suspension_reason: str | None = None
    declared_permissions: Mapping[str, Permission] = field(default_factory=dict)
    inherit_permissions: bool = True
    traffic: TrafficPolicy = NO_TRAFFIC_LIMITS
    twilio_mode: TwilioMode = TwilioMode.OFF
    twilio_api_key_env: str | None = None  # with twilio_api_secret_env: an API key instead of the auth token
    twilio_api_secret_env: str | None = None
    # Set by callguard.sync.apply_twilio: when Twilio's picture of this account was last read, and
    # when it becomes too old to decide on (None: never read, or the account is not synced).
    twilio_synced_at: float | None = None
    twilio_stale_at: float | None = None

    @property
    def family(self) -> str:
        """The root account of this account's family: opt-outs and consent are kept per family."""
        return self.lineage[-1]

    @property
    def label(self) -> str:
        return f"{self.name} ({self.sid})" if self.name and self.name != self.sid else self.sid

    def permission(self, geo_key: str) -> Permission:
        return self.permissions.get(geo_key, NO_PERMISSION)


@dataclass(frozen=True)
class ProxyRoute:
    """A callguard path whose webhooks go on to an app's URL, the app's TwiML coming back policed.

    A ``path`` ending in ``/`` is a prefix: ``/app/`` + rest goes to ``upstream`` + rest (so the
    app's relative URLs, which Twilio resolves against callguard's, come through callguard too).
    """

    path: str
    upstream: str
    connect_timeout: float
    read_timeout: float
    campaign: str | None = None

    @property
    def is_prefix(self) -> bool:
        return self.path.endswith("/")

    def upstream_url(self, path: str) -> str:
        """The app's URL for ``path`` (a path this route matched), without a query string."""
        return self.upstream + path[len(self.path):] if self.is_prefix else self.upstream


@dataclass(frozen=True)
class ProxyRoutes:
    """The policy's proxy routes: exact paths first, then the longest matching prefix."""

    routes: tuple[ProxyRoute, ...] = ()
    _exact: Mapping[str, ProxyRoute] = field(init=False, repr=False, compare=False)
    _prefixes: tuple[ProxyRoute, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_exact", {r.path: r for r in self.routes if not r.is_prefix})
        object.__setattr__(self, "_prefixes", tuple(sorted((r for r in self.routes if r.is_prefix), key=lambda r: -len(r.path))))

    def match(self, path: str) -> ProxyRoute | None:
        route = self._exact.get(path)
        if route is not None or not self._prefixes:
            return route
        for prefix_route in self._prefixes:
            if path.startswith(prefix_route.path):
                return prefix_route
        return None


NO_PROXY_ROUTES = ProxyRoutes()


@dataclass(frozen=True)
class Defaults:
    fail_mode: FailMode = FailMode.REJECT
    reject_style: RejectStyle = RejectStyle.REJECT
    announce_voice: str | None = None
    announce_language: str | None = None
    non_pstn: NonPstnMode = NonPstnMode.REJECT
    default_region: str = "US"
    answer_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    """A loaded, validated, resolved policy."""

    source: str
    defaults: Defaults
    accounts: Mapping[str, Account]
    blocked_prefixes: tuple[BlockedPrefix, ...]
    risk_table: RiskTable
    direct_request_countries: frozenset[str]
    global_blocks: PrefixBlockIndex = field(default_factory=PrefixBlockIndex)
    campaigns: Mapping[str, Campaign] = field(default_factory=dict)
    calling_hours: CallingHours = field(default_factory=shipped_calling_hours)
    contact_limits: ContactLimits = field(default_factory=shipped_contact_limits)
    traffic: TrafficPolicy = NO_TRAFFIC_LIMITS
    alert_webhook: str | None = None
    proxy: ProxyRoutes = NO_PROXY_ROUTES

    def campaign(self, campaign_id: str | None) -> Campaign | None:
        return self.campaigns.get(campaign_id) if campaign_id else None

    def account(self, sid: str | None) -> Account | None:
        if not sid:
            return None
        return self.accounts.get(sid)

    def auth_token_envs(self) -> Iterable[tuple[str, str | None]]:
        """(account SID, environment variable naming its auth token) for every account."""
        return ((sid, account.auth_token_env) for sid, account in self.accounts.items())
