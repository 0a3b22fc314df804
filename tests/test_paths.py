"""The paths callguard serves, named once (callguard.paths): the app serves exactly those, and
every URL callguard hands Twilio reaches the route it is meant for."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from callguard import paths
from callguard.policy import Campaign, Purpose
from callguard.rendering import disclosure_url, status_callback_url
from callguard.web.compliance import disclosure_document

from .conftest import PUBLIC_URL, parse_twiml


def served(app: Any) -> set[str]:
    return {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"}  # Flask's own, and empty


def route_of(app: Any, url: str) -> str:
    """The endpoint a POST to ``url`` is dispatched to."""
    endpoint, _ = app.url_map.bind(urlsplit(url).netloc).match(urlsplit(url).path, method="POST")
    return str(endpoint)


def test_the_app_serves_exactly_callguards_own_paths_and_the_api(app: Any) -> None:
    api = {rule for rule in served(app) if rule.startswith(paths.OWN_PREFIXES)}
    assert served(app) - api == set(paths.OWN_PATHS)
    assert {rule.split("/")[1] for rule in api} == {paths.API_PREFIX.strip("/")}


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        (disclosure_url(PUBLIC_URL, "spring"), "callguard_compliance.disclosure"),
        (status_callback_url(PUBLIC_URL, "spring"), "callguard_status.call_status"),
        (status_callback_url(PUBLIC_URL, None), "callguard_status.call_status"),
    ],
)
def test_the_callbacks_in_a_decisions_twiml_reach_their_routes(app: Any, url: str, endpoint: str) -> None:
    assert route_of(app, url) == endpoint


def test_the_opt_out_prompt_answers_to_the_opt_out_route(app: Any) -> None:
    campaign = Campaign(id="spring", purpose=Purpose.TELEMARKETING, organization="Acme", disclosure_text="Acme calling.")
    gather = parse_twiml(disclosure_document(campaign, base=PUBLIC_URL, next_url=None).encode()).find("Gather")
    assert route_of(app, gather.get("action")) == "callguard_compliance.optout"
