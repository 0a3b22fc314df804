"""The policy's ``[risk]`` table: prefixes moved between Twilio's risk categories, on top of the
shipped table or instead of it, and the countries that need a direct request to Twilio."""

from __future__ import annotations

from ..numbers.risk import RiskCategory, RiskPrefix, validate_e164_prefix
from .tables import Table, region


def read_risk(table: Table | None) -> tuple[list[RiskPrefix], bool, frozenset[str] | None]:
    """The policy's risk prefixes, whether the shipped table stays under them (``keep_shipped``),
    and its direct-request countries (None: the shipped list)."""
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
        direct = frozenset(region(table, f"direct_request_countries[{i}]", c) for i, c in enumerate(countries))
    return overrides, table.bool("keep_shipped", True), direct
