"""The policy's ``[proxy]`` table: the paths at which callguard stands in front of an app it does
not run, the app's URL for each, and how long callguard waits for it.

A route may not take over a path callguard serves itself (:mod:`callguard.paths`), and its
timeouts together must leave callguard time to answer before Twilio gives up on the webhook.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..deadline import TWILIO_WEBHOOK_SECONDS
from ..paths import OWN_PATHS, OWN_PREFIXES
from .model import Campaign, ProxyRoute, ProxyRoutes
from .tables import HTTP_URL, Table, describe

# Segments of a path's characters, each but the last followed by one slash. Written so that a
# string matches one way only: "(?:[…]+/?)*" could split a run of characters every way there is,
# and took minutes to refuse a long path with a bad character at its end (found by fuzzing).
ROUTE_PATH = re.compile(r"/(?:[A-Za-z0-9._~!$&'()*+,;=:@%-]+/)*[A-Za-z0-9._~!$&'()*+,;=:@%-]*")
DEFAULT_CONNECT_TIMEOUT = 2.0
DEFAULT_READ_TIMEOUT = 8.0


def read_proxy(table: Table | None, campaigns: Mapping[str, Campaign]) -> ProxyRoutes:
    """The ``[proxy]`` table (none: no routes); a route's campaign must be one of ``campaigns``."""
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
        entry = Table(item if isinstance(item, dict) else {}, (*table.path, f"routes[{index}]"), table.source)
        if not isinstance(item, dict):
            raise entry.error(None, f"expected a table, got {describe(item)}")
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


def _seconds(table: Table, name: str, default: float) -> float:
    value = table.data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= TWILIO_WEBHOOK_SECONDS:
        raise table.error(name, f"expected a number of seconds above 0 and at most {TWILIO_WEBHOOK_SECONDS:g}, got {describe(value)}")
    return float(value)


def _route_path(table: Table) -> str:
    path = table.str("path")
    if path is None:
        raise table.error("path", 'missing: the callguard path Twilio calls, e.g. path = "/voice/sales"')
    if not ROUTE_PATH.fullmatch(path) or path == "/" or "//" in path:
        raise table.error("path", f"{path!r} is not a URL path such as \"/voice/sales\" (or \"/sales/\" for every path under it)")
    for own in OWN_PATHS:
        if own == path or (path.endswith("/") and own.startswith(path)):
            raise table.error("path", f"{path!r} would take over callguard's own {own}")
    for own in OWN_PREFIXES:
        if path.startswith(own) or own.startswith(path):
            raise table.error("path", f"{path!r} would take over callguard's own {own}")
    return path
