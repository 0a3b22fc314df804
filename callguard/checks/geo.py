"""Refuse destinations whose country is not enabled for the number's risk category.

Twilio's Voice Dialing Geographic Permissions enable each country separately for low-risk
numbers, high-risk special services and high-risk toll-fraud ranges; a few countries
(Singapore, Taiwan, Sierra Leone, Somalia per Twilio) also need a direct request to Twilio,
which the policy records as ``direct_request = true``.
"""

from __future__ import annotations

from ..decision import Refusal
from ..numbers.regions import region_name
from ..numbers.risk import RiskCategory
from .context import SKIP, DialContext, Outcome

_CATEGORY_WORDS = {
    RiskCategory.LOW_RISK: "low-risk numbers",
    RiskCategory.HIGH_RISK_SPECIAL: "high-risk special-services numbers",
    RiskCategory.HIGH_RISK_TOLLFRAUD: "high-risk toll-fraud numbers",
}


def check_geo(ctx: DialContext) -> Outcome:
    info = ctx.info
    account = ctx.account
    if info is None or account is None or not info.valid:
        return SKIP
    permission = account.permission(info.geo_key)
    if not permission.allows(info.risk):
        return Refusal(
            "geo",
            f"geo.{info.risk.value}",
            f"Calls to {_CATEGORY_WORDS[info.risk]} in {region_name(info.region, info.country_code)} "
            f"are not enabled for account {account.label} ({info.e164} is {info.type_name.replace('_', ' ')}).",
        )
    if info.region in ctx.policy.direct_request_countries and not permission.direct_request:
        return Refusal(
            "geo",
            "geo.direct_request",
            f"{region_name(info.region)} is opened only on direct request to Twilio, and account {account.label} "
            f"has no direct_request grant for it.",
        )
    return None
