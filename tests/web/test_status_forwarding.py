"""Status callbacks forwarded to the app's own statusCallback (callguard.web.status_forwarding).

callguard chains its /voice/status in front of the app's callback when it counts the account's
traffic; the app is a real Flask app on loopback that checks every signature itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from ..conftest import BASE_POLICY, MAIN_TOKEN, PUBLIC_URL, TwilioClient, dial_params, free_port, parse_twiml
from ..voice_apps import UpstreamApp, make_upstream_app

TRAFFIC = "\n[traffic]\nconcurrent = 5\n"


@pytest.fixture
def upstream(wsgi_server: Callable[[Any], str]) -> Iterator[tuple[UpstreamApp, str]]:
    app = make_upstream_app(MAIN_TOKEN)
    yield app, wsgi_server(app.app)


@pytest.fixture
def tw(
    make_app: Callable[..., Any], app_config: dict[str, Any], write_policy: Callable[..., Path], upstream: tuple[UpstreamApp, str]
) -> TwilioClient:
    _, base = upstream
    route = f'[[proxy.routes]]\npath = "/voice/app"\nupstream = "{base}/voice/incoming"\n'
    route += f'[[proxy.routes]]\npath = "/voice/app-status"\nupstream = "{base}/status"\n'
    policy = write_policy(BASE_POLICY + TRAFFIC + route, name="forwarding.toml")
    return TwilioClient(make_app({**app_config, "CALLGUARD_POLICY": str(policy)}).test_client())


def chained_callback(tw: TwilioClient, app_callback: str, events: str = "") -> str:
    """callguard's statusCallback on the app's <Number>: path and query, as Twilio will request it."""
    extra = {"AppStatusCallback": app_callback, **({"AppStatusEvents": events} if events else {})}
    number = parse_twiml(tw.post("/voice/app", dial_params("+14155550123", CallSid="CA" + "a" * 32, **extra)).data).find("Dial/Number")
    url = number.get("statusCallback")
    assert url.startswith(f"{PUBLIC_URL}/voice/status?")
    return url[len(PUBLIC_URL):]


def twilio_status(call_status: str, **extra: str) -> dict[str, str]:
    return dial_params(
        "+14155550123", CallSid="CA" + "b" * 32, ParentCallSid="CA" + "a" * 32, CallStatus=call_status,
        CallDuration="42", Direction="outbound-dial", **extra,
    )


def test_the_final_status_reaches_the_app_signed_for_its_url(tw: TwilioClient, upstream: tuple[UpstreamApp, str]) -> None:
    app, base = upstream
    path = chained_callback(tw, f"{base}/status?tenant=7")
    response = tw.post(path, twilio_status("completed"))
    assert response.status_code == 200 and list(parse_twiml(response.data)) == []
    forwarded = [r for r in app.received if r.path == "/status"]
    assert len(forwarded) == 1  # the app's signature check passed
    assert forwarded[0].params["CallStatus"] == ["completed"] and forwarded[0].params["tenant"] == ["7"]
    assert "forward" not in forwarded[0].params


def test_only_the_events_the_app_asked_for_are_forwarded(tw: TwilioClient, upstream: tuple[UpstreamApp, str]) -> None:
    app, base = upstream
    default_events = chained_callback(tw, f"{base}/status")
    tw.post(default_events, twilio_status("ringing"))
    tw.post(default_events, twilio_status("no-answer"))
    asked = chained_callback(tw, f"{base}/status", events="ringing")
    tw.post(asked, twilio_status("ringing"))
    tw.post(asked, twilio_status("in-progress"))
    tw.post(asked, twilio_status("completed"))  # callguard asked for it for itself; the app did not
    assert [r.params["CallStatus"][0] for r in app.received if r.path == "/status"] == ["no-answer", "ringing"]


def test_a_forged_forward_url_is_not_followed(tw: TwilioClient, upstream: tuple[UpstreamApp, str]) -> None:
    app, base = upstream
    path = chained_callback(tw, f"{base}/status")
    query = {k: v[0] for k, v in parse_qs(urlsplit(path).query, keep_blank_values=True).items()}
    for forged in (
        {**query, "forward": f"{base}/status?evil=1"},
        {**query, "forward_method": "GET"},
        {k: v for k, v in query.items() if k != "forward_tag"},
    ):
        response = tw.post("/voice/status?" + urlencode(forged), twilio_status("completed"))
        assert response.status_code == 200 and list(parse_twiml(response.data)) == []
    assert [r for r in app.received if r.path == "/status"] == []


def test_an_app_that_is_down_does_not_trouble_twilio(tw: TwilioClient) -> None:
    path = chained_callback(tw, f"http://127.0.0.1:{free_port()}/status")
    response = tw.post(path, twilio_status("completed"))
    assert response.status_code == 200 and list(parse_twiml(response.data)) == []


def test_an_app_behind_the_proxy_with_a_relative_callback_is_reached_directly(tw: TwilioClient, upstream: tuple[UpstreamApp, str]) -> None:
    app, _ = upstream
    # Twilio would resolve "app-status" against callguard's URL: a proxy route to the app.
    path = chained_callback(tw, "app-status?x=1")
    assert parse_qs(urlsplit(path).query)["forward"] == [f"{PUBLIC_URL}/voice/app-status?x=1"]
    tw.post(path, twilio_status("completed"))
    (forwarded,) = [r for r in app.received if r.path == "/status"]
    assert forwarded.params["x"] == ["1"] and forwarded.params["CallStatus"] == ["completed"]
