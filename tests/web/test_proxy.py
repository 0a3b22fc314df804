"""Proxy routes: callguard in front of an app it does not run (callguard.web.proxy).

The upstream is a real Flask app served on loopback that checks every signature itself."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from ..conftest import BASE_POLICY, MAIN, MAIN_TOKEN, TENANT, TENANT_TOKEN, TwilioClient, dial_params, free_port, parse_twiml
from ..voice_apps import UpstreamApp, make_upstream_app


def routes(base: str, *, down: str) -> str:
    return f"""
[proxy]
read_timeout = 5

[[proxy.routes]]
path = "/voice/app"
upstream = "{base}/voice/incoming"

[[proxy.routes]]
path = "/app/"
upstream = "{base}/app/"

[[proxy.routes]]
path = "/voice/slow"
upstream = "{base}/voice/slow"
read_timeout = 0.5

[[proxy.routes]]
path = "/voice/down"
upstream = "{down}"
""" + "".join(
        f'\n[[proxy.routes]]\npath = "/voice/{name}"\nupstream = "{base}/voice/{name}"\n'
        for name in ("garbage", "huge", "error", "moved", "call-status", "verbatim")
    )


@pytest.fixture
def upstream(wsgi_server: Callable[[Any], str]) -> tuple[UpstreamApp, str]:
    app = make_upstream_app(MAIN_TOKEN)
    yield app, wsgi_server(app.app)
    app.release.set()


@pytest.fixture
def proxy_app(
    make_app: Callable[..., Any], app_config: dict[str, Any], write_policy: Callable[..., Path], upstream: tuple[UpstreamApp, str]
) -> Any:
    _, base = upstream
    policy = write_policy(BASE_POLICY + routes(base, down=f"http://127.0.0.1:{free_port()}/voice"), name="proxy.toml")
    return make_app({**app_config, "CALLGUARD_POLICY": str(policy)})


@pytest.fixture
def tw(proxy_app: Any) -> TwilioClient:
    return TwilioClient(proxy_app.test_client())


def test_the_app_gets_the_same_request_signed_for_its_own_url(tw: TwilioClient, upstream: tuple[UpstreamApp, str]) -> None:
    app, base = upstream
    params = dial_params("+14155550123")
    response = tw.post("/voice/app?lang=en", params)
    assert response.status_code == 200 and response.headers["X-Callguard-Decision"] == "connect; reasons=ok"
    (received,) = app.received  # the app's own signature check passed
    assert received.path == "/voice/incoming" and received.method == "POST"
    assert {k: v[0] for k, v in received.params.items()} == {**params, "lang": "en"}
    # The app's document comes back as it wrote it.
    root = parse_twiml(response.data)
    assert [e.tag for e in root] == ["Say", "Dial"] and root.find("Dial/Number").text == "+14155550123"
    assert response.mimetype == "text/xml"


def test_a_refused_number_is_taken_out_of_the_apps_answer(tw: TwilioClient) -> None:
    response = tw.post("/voice/app", dial_params("+14155550123", Numbers="+4930901820,+14155550123"))
    assert [n.text for n in parse_twiml(response.data).find("Dial")] == ["+14155550123"]
    assert response.headers["X-Callguard-Decision"] == "connect; reasons=geo.low_risk,ok"


def test_a_fully_refused_dial_reports_to_the_apps_action_through_callguard(tw: TwilioClient, upstream: tuple[UpstreamApp, str]) -> None:
    app, _ = upstream
    response = tw.post("/app/voice/menu", dial_params("+4930901820"))
    say, redirect = list(parse_twiml(response.data))
    # The app's relative action resolves against callguard's URL, so the next request comes
    # through the prefix route too.
    assert say.tag == "Say" and redirect.tag == "Redirect" and urlsplit(redirect.text).path == "after-dial"
    assert app.received[0].path == "/app/voice/menu"
    follow_up = tw.post("/app/voice/after-dial?" + urlsplit(redirect.text).query, dial_params("+14155550123"))
    assert app.received[1].path == "/app/voice/after-dial" and app.received[1].params["DialCallStatus"] == ["failed"]
    assert follow_up.headers["X-Callguard-Decision"] == "connect; reasons=ok"


def test_a_get_webhook_is_proxied_as_a_get(tw: TwilioClient, upstream: tuple[UpstreamApp, str]) -> None:
    app, _ = upstream
    response = tw.get("/voice/app?To=%2B14155550123&From=%2B14155550100&AccountSid=" + MAIN)
    assert response.headers["X-Callguard-Decision"] == "connect; reasons=ok"
    assert app.received[0].method == "GET" and app.received[0].params["To"] == ["+14155550123"]


def test_a_subaccount_request_is_re_signed_with_the_subaccounts_token(
    make_app: Callable[..., Any], app_config: dict[str, Any], write_policy: Callable[..., Path], wsgi_server: Callable[[Any], str]
) -> None:
    tenant_app = make_upstream_app(TENANT_TOKEN)
    base = wsgi_server(tenant_app.app)
    policy = write_policy(BASE_POLICY + f'[[proxy.routes]]\npath = "/voice/tenant"\nupstream = "{base}/voice/incoming"\n', name="t.toml")
    tw = TwilioClient(make_app({**app_config, "CALLGUARD_POLICY": str(policy)}).test_client())
    response = tw.post("/voice/tenant", dial_params("+4930901821", from_="+442079460000", account=TENANT), token=TENANT_TOKEN)
    assert len(tenant_app.received) == 1
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=prefix.blocked"


def test_an_unsigned_request_is_not_forwarded(tw: TwilioClient, upstream: tuple[UpstreamApp, str]) -> None:
    assert tw.post("/voice/app", dial_params("+14155550123"), signature="forged").status_code == 403
    assert upstream[0].received == []


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/voice/down", "upstream.unavailable"),
        ("/voice/garbage", "upstream.invalid"),
        ("/voice/huge", "upstream.invalid"),
        ("/voice/error", "upstream.status"),
        ("/voice/moved", "upstream.status"),  # a redirect's TwiML would escape the checks
    ],
)
def test_an_upstream_that_fails_gets_the_policys_refusal(tw: TwilioClient, path: str, reason: str) -> None:
    response = tw.post(path, dial_params("+14155550123"))
    assert response.status_code == 200
    assert [e.tag for e in parse_twiml(response.data)] == ["Reject"]
    assert response.headers["X-Callguard-Decision"] == f"reject; reasons={reason}"


def test_a_slow_upstream_is_given_up_after_its_read_timeout(tw: TwilioClient) -> None:
    started = time.monotonic()
    response = tw.post("/voice/slow", dial_params("+14155550123"))
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=upstream.timeout"
    assert time.monotonic() - started < 5  # the route's 0.5 s, with room for a busy machine


def test_routes_follow_the_policy_file_without_a_restart(
    proxy_app: Any, tw: TwilioClient, write_policy: Callable[..., Path], upstream: tuple[UpstreamApp, str]
) -> None:
    assert tw.post("/voice/later", dial_params("+14155550123")).status_code == 404
    _, base = upstream
    path = write_policy(BASE_POLICY + f'[[proxy.routes]]\npath = "/voice/later"\nupstream = "{base}/voice/incoming"\n', name="proxy.toml")
    os.utime(path, (time.time() + 5, time.time() + 5))  # a new mtime, however fast the rewrite
    assert proxy_app.extensions["callguard"].refresher.refresh_now()
    assert tw.post("/voice/later", dial_params("+14155550123")).headers["X-Callguard-Decision"] == "connect; reasons=ok"
    assert tw.post("/voice/app", dial_params("+14155550123")).status_code == 404


def test_other_paths_are_untouched(tw: TwilioClient) -> None:
    assert tw.client.get("/v1/nothing-here").get_json()["error"]["code"] == "not_found"
    assert tw.post("/voice/outbound", dial_params("+14155550123")).headers["X-Callguard-Decision"] == "connect; reasons=ok"


def test_without_traffic_limits_the_apps_status_callback_is_left_alone(tw: TwilioClient) -> None:
    response = tw.post("/voice/app", dial_params("+14155550123", AppStatusCallback="https://app.example.com/status"))
    assert parse_twiml(response.data).find("Dial/Number").get("statusCallback") == "https://app.example.com/status"
    assert response.data.decode().count("statusCallback") == 1


def test_every_callguard_route_is_protected_from_proxy_routes(app: Any) -> None:
    from callguard.paths import OWN_PATHS, OWN_PREFIXES

    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":  # Flask's, and empty
            continue
        assert rule.rule in OWN_PATHS or rule.rule.startswith(OWN_PREFIXES), rule.rule


def test_a_fault_on_a_proxy_route_is_valid_twiml(tw: TwilioClient, proxy_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(proxy_app.extensions["callguard"].upstream, "send", broken)
    response = tw.post("/voice/app", dial_params("+14155550123"))
    assert response.status_code == 200 and response.headers["X-Callguard-Decision"] == "reject; reasons=fault.internal"
    assert tw.post("/voice/app", dial_params("+14155550123"), signature="forged").status_code == 403


def _status_callback(status: str, **extra: str) -> dict[str, str]:
    """The parameters of a call's status callback, as Twilio sends them."""
    return dial_params(
        "+14155550123", CallStatus=status, CallbackSource="call-progress-events", SequenceNumber="0",
        Timestamp="Fri, 04 Dec 2026 15:00:00 +0000", **extra,
    )


def _upstream_failures(reason: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("callguard_upstream_failures_total", {"reason": reason}) or 0.0


@pytest.mark.parametrize(
    "params",
    [
        _status_callback("completed", CallDuration="42"),
        _status_callback("ringing"),  # an event the app asked for, mid-call: still no call flow
        dial_params("+14155550123", CallStatus="no-answer"),  # a number's status callback, without CallbackSource
    ],
    ids=["completed", "ringing", "final-status"],
)
def test_a_status_callback_through_a_proxy_route_gets_the_apps_own_answer(
    tw: TwilioClient, upstream: tuple[UpstreamApp, str], params: dict[str, str]
) -> None:
    app, _ = upstream
    invalid = _upstream_failures("upstream.invalid")
    response = tw.post("/voice/call-status", params)
    assert response.status_code == 204 and response.data == b""  # the app's answer, not <Reject>
    assert "X-Callguard-Decision" not in response.headers
    (received,) = app.received  # delivered, signed for the app's own URL
    assert received.path == "/voice/call-status" and received.params["CallStatus"] == [params["CallStatus"]]
    assert _upstream_failures("upstream.invalid") == invalid


def test_a_status_callback_the_app_fails_is_acknowledged_empty(tw: TwilioClient) -> None:
    status = _upstream_failures("upstream.status")
    response = tw.post("/voice/error", _status_callback("completed", CallDuration="42"))
    assert response.status_code == 204 and response.data == b""
    assert _upstream_failures("upstream.status") == status + 1
    assert tw.post("/voice/call-status", _status_callback("completed"), signature="forged").status_code == 403


def test_a_call_flow_request_to_the_same_route_is_still_policed(tw: TwilioClient) -> None:
    # An app answering its webhook with 204 gives Twilio nothing to run: the policy's refusal.
    response = tw.post("/voice/call-status", dial_params("+14155550123"))
    assert response.status_code == 200 and response.headers["X-Callguard-Decision"] == "reject; reasons=upstream.invalid"
    assert [e.tag for e in parse_twiml(response.data)] == ["Reject"]


def test_a_number_split_by_a_comment_is_checked_whole_and_answered_whole(
    make_app: Callable[..., Any], app_config: dict[str, Any], write_policy: Callable[..., Path], upstream: tuple[UpstreamApp, str]
) -> None:
    """``+4930123456<!-- x -->78`` dials +493012345678: that is what is checked, and what goes to Twilio."""
    _, base = upstream
    germany = BASE_POLICY.replace("JM = { low_risk = true }", "JM = { low_risk = true }\nDE = { low_risk = true }", 1)
    assert germany != BASE_POLICY
    block = '\n[[blocked_prefixes]]\nprefix = "+493012345678"\nreason = "closed"\n'
    policy = write_policy(germany + block + routes(base, down=f"http://127.0.0.1:{free_port()}/voice"), name="proxy.toml")
    tw = TwilioClient(make_app({**app_config, "CALLGUARD_POLICY": str(policy)}).test_client())
    for split in ("<!-- x -->", "<?x y?>"):
        document = f'<Response><Dial callerId="+14155550100"><Number>+4930123456{split}78</Number></Dial></Response>'
        response = tw.post("/voice/verbatim", dial_params("+14155550123", Document=document))
        assert response.status_code == 200 and response.headers["X-Callguard-Decision"] == "reject; reasons=prefix.blocked"
        assert [e.tag for e in parse_twiml(response.data)] == ["Reject"]
    document = '<Response><Dial callerId="+14155550100"><Number>+49301<!-- x -->234567</Number></Dial></Response>'
    response = tw.post("/voice/verbatim", dial_params("+14155550123", Document=document))
    assert response.headers["X-Callguard-Decision"] == "connect; reasons=ok"
    assert b"<!--" not in response.data and parse_twiml(response.data).find("Dial/Number").text == "+49301234567"
