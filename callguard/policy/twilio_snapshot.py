"""What callguard keeps of Twilio's picture of an account: plain, immutable data.

The reader fills these from Twilio's REST answers, the store writes and reads them, and
:func:`~callguard.policy.twilio_apply.apply_twilio` lays them over the policy. Field names follow
Twilio's JSON (``low_risk_numbers_enabled`` …) so a reader can check them against Twilio's docs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

ACTIVE = "active"  # Twilio's Account.status; the others are "suspended" and "closed"


@dataclass(frozen=True)
class TwilioCountry:
    """One entry of Voice ``DialingPermissions/Countries``."""

    iso_code: str
    country_codes: tuple[str, ...]  # "+1", "+1876" …
    low_risk_numbers_enabled: bool
    high_risk_special_numbers_enabled: bool
    high_risk_tollfraud_numbers_enabled: bool


@dataclass(frozen=True)
class TwilioAccount:
    """An account (or subaccount) as Twilio last described it.

    ``synced_at`` is when its numbers and permissions were last read in full (None: never, for
    example a subaccount Twilio lists that the policy does not sync). ``countries`` is None when
    the account inherits its dialing permissions from ``owner_account_sid`` (Twilio's
    ``dialing_permissions_inheritance``); the owner's then apply.
    """

    sid: str
    owner_account_sid: str | None
    friendly_name: str | None
    status: str | None
    synced_at: float | None = None
    attempted_at: float | None = None
    last_error: str | None = None
    inherits_permissions: bool = False
    incoming_numbers: frozenset[str] = frozenset()
    verified_caller_ids: frozenset[str] = frozenset()
    countries: tuple[TwilioCountry, ...] | None = None

    @property
    def caller_ids(self) -> frozenset[str]:
        """Every number Twilio lets this account present as caller ID: its own numbers and its verified ones."""
        return self.incoming_numbers | self.verified_caller_ids


@dataclass(frozen=True)
class TwilioSnapshot:
    """Everything synced, as one version: accounts by SID, and Twilio's high-risk special prefixes."""

    version: int = 0
    accounts: Mapping[str, TwilioAccount] = field(default_factory=dict)
    special_prefixes: Mapping[str, str] = field(default_factory=dict)  # E.164 prefix -> ISO code

    def countries_for(self, sid: str) -> tuple[TwilioCountry, ...] | None:
        """The dialing permissions that apply to ``sid``: its own, or its owner's when it inherits them."""
        account = self.accounts.get(sid)
        if account is None:
            return None
        if account.inherits_permissions and account.owner_account_sid and account.owner_account_sid != sid:
            owner = self.accounts.get(account.owner_account_sid)
            return owner.countries if owner is not None else None
        return account.countries


EMPTY_SNAPSHOT = TwilioSnapshot()
