"""The guarded REST client (callguard.wrapping.rest), with the real twilio client against a local
stand-in for Twilio's API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from twilio.rest import Client

from callguard import CallBlocked, FakeClock, Guard, GuardedClient, load_policy
from callguard.errors import ConfigError, PolicyError
from callguard.lookups import Lookups
from callguard.registry import RegistryDirectory
from callguard.store.consents import ConsentStore
from callguard.store.database import create_database_engine
from callguard.store.migrate import ensure_schema
from callguard.store.optouts import OptOutStore

from ..conftest import BASE_POLICY, MAIN, MAIN_TOKEN
from ..test_engine import ListAudit
from ..twilio_api import TwilioApi, make_twilio_api

CAMPAIGNS = """
[defaults]
answer_urls = ["https://app.example.com/calls/"]
[campaigns.spring]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "This is Acme Solar calling."
[campaigns.reminders]
purpose = "informational"
"""
POLICY = BASE_POLICY.replace('[defaults]\nfail_mode = "reject"\nreject_style = "reject"\ndefault_region = "US"\n', "") + CAMPAIGNS


@pytest.fixture
def twilio_api(wsgi_server: Callable[[Any], str]) -> tuple[TwilioApi, Client]:
    api = make_twilio_api(MAIN, MAIN_TOKEN)
    client = Client(MAIN, MAIN_TOKEN)
    client.api.base_url = wsgi_server(api.app)
    return api, client


@pytest.fixture
def guard(write_policy: Callable[..., Path], clock: FakeClock, sqlite_url: str, tmp_path: Path) -> Guard:
    clock.set(datetime(2026, 6, 1, 17, 0, tzinfo=UTC))  # Monday, 13:00 in New York
    engine = create_database_engine(sqlite_url)
    ensure_schema(engine)
    lookups = Lookups(OptOutStore(engine), ConsentStore(engine), RegistryDirectory(tmp_path / "registries", clock=clock))
    return Guard(load_policy(write_policy(POLICY, name="rest.toml")), clock=clock, audit=ListAudit(), lookups=lookups)


def test_a_permitted_call_is_created_as_asked(twilio_api: tuple[TwilioApi, Client], guard: Guard) -> None:
    api, client = twilio_api
    guarded = GuardedClient(client, guard)
    call = guarded.calls.create(to="+14155550123", from_="+14155550100", url="https://app.example.com/calls/answer")
    assert call.sid.startswith("CA") and call.status == "queued" and call.direction == "outbound-api"
    assert api.created == [{"To": "+14155550123", "From": "+14155550100", "Url": "https://app.example.com/calls/answer"}]
    (decision,) = guard.audit.decisions  # type: ignore[attr-defined]
    assert decision.request.source == "rest" and decision.reasons == ("ok",)


@pytest.mark.parametrize(
    ("to", "from_", "reason"),
    [
        ("+4930901820", "+14155550100", "geo.low_risk"),
        ("+14155550123", "+14155550177", "callerid.not_owned"),
        ("+1415555019", "+14155550100", "destination.invalid"),
    ],
)
def test_a_refused_call_raises_before_anything_is_sent(
    twilio_api: tuple[TwilioApi, Client], guard: Guard, to: str, from_: str, reason: str
) -> None:
    api, client = twilio_api
    with pytest.raises(CallBlocked) as caught:
        GuardedClient(client, guard).calls.create(to=to, from_=from_, url="https://app.example.com/calls/answer")
    assert caught.value.decision.reasons[0] == reason and reason in str(caught.value)
    assert api.created == []


def test_a_telemarketing_call_answers_through_callguard(twilio_api: tuple[TwilioApi, Client], guard: Guard) -> None:
    api, client = twilio_api
    guarded = GuardedClient(client, guard, answer_base_url="https://cg.example.com/", campaign="spring")
    guarded.calls.create(to="+12125550123", from_="+14155550100", url="https://app.example.com/calls/answer", method="GET")
    (created,) = api.created
    url = urlsplit(created["Url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://cg.example.com/voice/answer" and created["Method"] == "POST"
    assert parse_qs(url.query) == {"campaign": ["spring"], "next": ["https://app.example.com/calls/answer"], "next_method": ["GET"]}
    # Another campaign named on the call wins over the client's.
    guarded.calls.create(to="+12125550123", from_="+14155550100", url="https://app.example.com/calls/remind", campaign="reminders")
    assert api.created[1]["Url"] == "https://app.example.com/calls/remind"


def test_telemarketing_needs_an_answer_url_callguard_may_hand_over_to(twilio_api: tuple[TwilioApi, Client], guard: Guard) -> None:
    api, client = twilio_api
    guarded = GuardedClient(client, guard, answer_base_url="https://cg.example.com", campaign="spring")
    with pytest.raises(PolicyError, match="url="):
        guarded.calls.create(to="+12125550123", from_="+14155550100", twiml="<Response><Say>Hi</Say></Response>")
    with pytest.raises(PolicyError, match="answer_urls"):
        guarded.calls.create(to="+12125550123", from_="+14155550100", url="https://elsewhere.example.com/answer")
    with pytest.raises(ConfigError, match="answer_base_url"):
        GuardedClient(client, guard, campaign="spring").calls.create(to="+12125550123", from_="+14155550100", url="https://app.example.com/calls/a")
    assert api.created == []


def test_everything_else_is_the_clients_own(twilio_api: tuple[TwilioApi, Client], guard: Guard) -> None:
    _, client = twilio_api
    guarded = GuardedClient(client, guard)
    assert guarded.account_sid == MAIN and guarded.api is client.api
    assert repr(guarded.calls("CA" + "0" * 32)) == repr(client.calls("CA" + "0" * 32))  # the real CallContext
    assert guarded.calls.check("+4930901820", "+14155550100").reasons == ("geo.low_risk",)


def test_a_counted_call_reports_its_end_to_callguard_and_to_the_app(
    twilio_api: tuple[TwilioApi, Client], make_app: Callable[..., Any], app_config: dict[str, Any], write_policy: Callable[..., Path]
) -> None:
    """With [traffic] limits a REST call takes a concurrency slot; its statusCallback (chained to the
    app's own) names the slot, and the final status Twilio sends there frees it."""
    from callguard.wrapping.chaining import chained_status_callback

    from ..conftest import PUBLIC_URL, TwilioClient, dial_params

    api, client = twilio_api
    policy = write_policy(POLICY + "\n[traffic]\nconcurrent = 1\n", name="rest-traffic.toml")
    app = make_app({**app_config, "CALLGUARD_POLICY": str(policy)})
    guarded = GuardedClient(client, app.extensions["callguard"].guard, answer_base_url=PUBLIC_URL)
    guarded.calls.create(
        to="+14155550123", from_="+14155550100", url="https://app.example.com/calls/answer",
        status_callback="https://app.example.com/calls/status", status_callback_event=["answered"],
    )
    (created,) = api.created
    callback = urlsplit(created["StatusCallback"])
    query = {k: v[0] for k, v in parse_qs(callback.query).items()}
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == f"{PUBLIC_URL}/voice/status"
    assert created["StatusCallbackMethod"] == "POST"
    assert query["slot"].startswith("cg-") and created["StatusCallbackEvent"] == "answered completed"
    chained = chained_status_callback(query, [MAIN_TOKEN.encode()])
    assert chained is not None and (chained.url, chained.events) == ("https://app.example.com/calls/status", ("answered",))
    with pytest.raises(CallBlocked) as caught:  # the first call holds the account's one slot
        guarded.calls.create(to="+14155550124", from_="+14155550100", url="https://app.example.com/calls/answer")
    assert caught.value.decision.reasons == ("traffic.concurrent",)

    final = dial_params("+14155550123", CallSid="CA" + "e" * 32, CallStatus="completed", CallDuration="20", Direction="outbound-api")
    path = f"{callback.path}?{callback.query}"
    assert TwilioClient(app.test_client()).post(path, final).status_code == 200
    guarded.calls.create(to="+14155550124", from_="+14155550100", url="https://app.example.com/calls/answer")
    assert len(api.created) == 2


def test_a_pre_dial_check_alone_takes_no_slot(
    twilio_api: tuple[TwilioApi, Client], make_app: Callable[..., Any], app_config: dict[str, Any], write_policy: Callable[..., Path]
) -> None:
    """``calls.check`` decides without placing a call: it counts nothing, so checks never fill the account's slots."""
    api, client = twilio_api
    policy = write_policy(POLICY + "\n[traffic]\nconcurrent = 1\n", name="rest-traffic.toml")
    app = make_app({**app_config, "CALLGUARD_POLICY": str(policy)})
    guarded = GuardedClient(client, app.extensions["callguard"].guard)
    for _ in range(3):
        decision = guarded.calls.check("+14155550123", "+14155550100")
        assert decision.action.value == "connect" and "traffic" in decision.checks
    guarded.calls.create(to="+14155550123", from_="+14155550100", url="https://app.example.com/calls/answer")
    assert len(api.created) == 1  # the account's one slot was still free
    assert guarded.calls.check("+14155550124", "+14155550100").reasons == ("traffic.concurrent",)  # and now it is taken
