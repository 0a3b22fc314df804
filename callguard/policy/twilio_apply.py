"""Lay Twilio's picture of each synced account over the policy: the result is an ordinary :class:`Policy`.

For an account with ``twilio = "mirror"`` its dialing permissions and caller IDs become
Twilio's; with ``"stricter"`` they are the policy's AND Twilio's. Either way callguard never
allows what Twilio's own settings forbid:

- **Dialing permissions.** Twilio keys them by ISO country; a country that has no entry of its
  own takes the entry listing its calling code (Canada is in Twilio's "United States/Canada",
  ``+1``), and non-geographic numbers (``+881`` …) take the entry listing their code. A country
  Twilio opens at all has been granted on direct request where Twilio requires one.
- **Caller IDs.** Twilio accepts as caller ID only the account's own numbers and its verified
  caller IDs, so those are the account's caller IDs (mirror), or the ones among the policy's
  that Twilio also lists (stricter). They are the account's own: Twilio does not let a
  subaccount present its parent's numbers.
- **Account status.** An account Twilio reports as suspended or closed is suspended here, with
  its subaccounts in the policy.
- **Risk.** Twilio's high-risk special prefixes are its classification of numbers, the same for
  every account, so they join the policy's risk table for every account: a number in one is
  ``high_risk_special`` whatever a shipped or policy ``low_risk`` entry says.

An account never synced keeps the policy alone; the ``twilio`` check then refuses its calls
if the fail mode is ``reject``. A synced account carries ``twilio_stale_at``, after which the
same check applies.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping

import phonenumbers

from ..numbers.risk import RiskCategory, RiskPrefix, RiskTable
from .model import NO_PERMISSION, Account, Permission, Policy, TwilioMode
from .twilio_snapshot import ACTIVE, TwilioCountry, TwilioSnapshot

_NON_GEO_CODES = frozenset(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)


def _both(policy: Permission, twilio: Permission) -> Permission:
    return Permission(
        low_risk=policy.low_risk and twilio.low_risk,
        high_risk_special=policy.high_risk_special and twilio.high_risk_special,
        high_risk_tollfraud=policy.high_risk_tollfraud and twilio.high_risk_tollfraud,
        direct_request=policy.direct_request and twilio.direct_request,
    )


@functools.lru_cache(maxsize=256)
def twilio_permissions(countries: tuple[TwilioCountry, ...]) -> Mapping[str, Permission]:
    """Twilio's country entries as callguard permissions, keyed as the geo check looks them up."""
    by_code: dict[int, Permission] = {}
    non_geo: dict[str, Permission] = {}
    permissions: dict[str, Permission] = {}
    for country in countries:
        permission = Permission(
            low_risk=country.low_risk_numbers_enabled,
            high_risk_special=country.high_risk_special_numbers_enabled,
            high_risk_tollfraud=country.high_risk_tollfraud_numbers_enabled,
            direct_request=country.low_risk_numbers_enabled
            or country.high_risk_special_numbers_enabled
            or country.high_risk_tollfraud_numbers_enabled,
        )
        if country.iso_code in phonenumbers.SUPPORTED_REGIONS:
            permissions[country.iso_code] = permission
        for code in country.country_codes:
            digits = code[1:]
            by_code.setdefault(int(digits), permission)
            # Non-geographic numbers are keyed by calling code (+881); an entry for a range inside
            # one (+8816) binds the whole code, and several bind it together: none may be exceeded.
            for calling_code in _NON_GEO_CODES:
                if digits.startswith(str(calling_code)):
                    key = f"+{calling_code}"
                    non_geo[key] = _both(non_geo[key], permission) if key in non_geo else permission
    for region in phonenumbers.SUPPORTED_REGIONS:
        if region not in permissions:
            shared = by_code.get(phonenumbers.country_code_for_region(region))
            if shared is not None:
                permissions[region] = shared
    permissions.update(non_geo)
    return permissions


def _risk_table(table: RiskTable, special: Mapping[str, str]) -> RiskTable:
    if not special:
        return table
    # A narrower low_risk entry inside one of Twilio's prefixes would let a number Twilio
    # classifies as special through as low risk; Twilio's classification wins there.
    kept = [e for e in table.entries if not (e.category is RiskCategory.LOW_RISK and any(e.prefix.startswith(p) for p in special))]
    twilio = [
        RiskPrefix(prefix, RiskCategory.HIGH_RISK_SPECIAL, f"Twilio HighRiskSpecialPrefixes ({iso})") for prefix, iso in special.items()
    ]
    return RiskTable(tuple(kept)).with_overrides(twilio)


def apply_twilio(policy: Policy, snapshot: TwilioSnapshot, *, max_staleness: float) -> Policy:
    """``policy`` with ``snapshot`` laid over its synced accounts (see the module docstring)."""
    if not snapshot.special_prefixes and all(a.twilio_mode is TwilioMode.OFF for a in policy.accounts.values()):
        return policy
    accounts: dict[str, Account] = {}
    closed: dict[str, str] = {}  # synced account -> its Twilio status, for those not active
    for sid, account in policy.accounts.items():
        synced = snapshot.accounts.get(sid) if account.twilio_mode is not TwilioMode.OFF else None
        if synced is None or synced.synced_at is None:
            accounts[sid] = account
            continue
        countries = snapshot.countries_for(sid) or ()
        twilio = twilio_permissions(countries)
        if account.twilio_mode is TwilioMode.MIRROR:
            permissions: Mapping[str, Permission] = twilio
            caller_ids = synced.caller_ids
        else:
            permissions = {key: _both(p, twilio.get(key, NO_PERMISSION)) for key, p in account.permissions.items()}
            caller_ids = account.caller_ids & synced.caller_ids
        if synced.status not in (None, ACTIVE):
            closed[sid] = synced.status
        accounts[sid] = dataclasses.replace(
            account,
            permissions=permissions,
            caller_ids=caller_ids,
            twilio_synced_at=synced.synced_at,
            twilio_stale_at=synced.synced_at + max_staleness,
        )
    for sid, account in accounts.items():
        if account.suspended:
            continue
        by = next((a for a in account.lineage if a in closed), None)
        if by is not None:
            accounts[sid] = dataclasses.replace(
                account, suspended=True, suspended_by=by, suspension_reason=f"Twilio reports account {by} as {closed[by]}"
            )
    return dataclasses.replace(policy, accounts=accounts, risk_table=_risk_table(policy.risk_table, snapshot.special_prefixes))
