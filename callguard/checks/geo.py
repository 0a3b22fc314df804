"""Refuse destinations whose country is not enabled for every risk category of the number.

Twilio's Voice Dialing Geographic Permissions enable each country separately for low-risk
numbers, high-risk special services and high-risk toll-fraud ranges. A number may belong to
several (a shared-cost number in a toll-fraud-listed range): each must be enabled, and the
refusal names the first that is not, in :class:`~callguard.numbers.risk.RiskCategory`'s order. A few countries
(Singapore, Taiwan, Sierra Leone, Somalia per Twilio) also need a direct request to Twilio,
which the policy records as ``direct_request = true``.
"""

from __future__ import annotations

from ..decision import Refusal
from ..numbers.classify import NumberInfo
from ..numbers.regions import region_name
from ..numbers.risk import RiskCategory
from .context import SKIP, DialContext, Outcome

_CATEGORY_WORDS = {
    RiskCategory.LOW_RISK: "low-risk numbers",
    RiskCategory.HIGH_RISK_SPECIAL: "high-risk special-services numbers",
    RiskCategory.HIGH_RISK_TOLLFRAUD: "high-risk toll-fraud numbers",
}


def _described(info: NumberInfo) -> str:
    kind = info.type_name.replace("_", " ")
    if len(info.risk_categories) == 1:
        return kind
    return f"{kind}, in {' and '.join(_CATEGORY_WORDS[c] for c in info.risk_categories)}"


def check_geo(ctx: DialContext) -> Outcome:
    info = ctx.info
    account = ctx.account
    if info is None or account is None or not info.valid:
        return SKIP
    permission = account.permission(info.geo_key)
    for category in info.risk_categories:
        if not permission.allows(category):
            return Refusal(
                "geo",
                f"geo.{category.value}",
                f"Calls to {_CATEGORY_WORDS[category]} in {region_name(info.region, info.country_code)} "
                f"are not enabled for account {account.label} ({info.e164} is {_described(info)}).",
            )
    if info.region in ctx.policy.direct_request_countries and not permission.direct_request:
        return Refusal(
            "geo",
            "geo.direct_request",
            f"{region_name(info.region)} is opened only on direct request to Twilio, and account {account.label} "
            f"has no direct_request grant for it.",
        )
    return None
