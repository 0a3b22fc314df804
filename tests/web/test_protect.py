"""``@guard.protect`` on an app's own Flask views, with ``CallGuard(app)`` (callguard.web.protect)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from callguard import CallGuard
from callguard.store.audit import SqlAuditLog

from ..conftest import BASE_POLICY, MAIN_TOKEN, PUBLIC_URL, TwilioClient, dial_params, parse_twiml

TRAFFIC = "\n[traffic]\nconcurrent = 5\n"


def dial_document(*numbers: str, caller_id: str = "+14155550100", **number_attributes: str) -> str:
    response = VoiceResponse()
    dial = response.dial(caller_id=caller_id, action="/voice/after-dial")
    for number in numbers:
        dial.number(number, **number_attributes)
    return str(response)


def build_voice_app(config: dict[str, Any]) -> tuple[Flask, CallGuard]:
    """An existing voice app: its own signature check, TwiML built with VoiceResponse, one decorator added."""
    app = Flask("voiceapp")
    app.config.update(config)
    guard = CallGuard(app)
    validator = RequestValidator(MAIN_TOKEN)

    @app.post("/voice/incoming")
    @guard.protect
    def incoming() -> Any:
        # The app's own validation keeps working behind callguard.
        if not validator.validate(PUBLIC_URL + request.path, request.form, request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        numbers = request.form.get("Numbers", request.form["To"]).split(",")
        response = Response(dial_document(*numbers), mimetype="text/xml")
        response.set_cookie("session", "kept")
        return response

    @app.post("/voice/whisper-app")
    @guard.protect(campaign="spring")
    def whisper_app() -> str:
        return dial_document(request.form["To"], url="/voice/app-whisper", method="GET")

    @app.post("/voice/counting")
    @guard.protect
    def counting() -> str:
        response = VoiceResponse()
        response.dial().number(request.form["To"], status_callback="https://app.example.com/status", status_callback_event="answered")
        return str(response)

    @app.post("/voice/broken")
    @guard.protect
    def broken() -> str:
        raise RuntimeError("the app's database is down")

    @app.post("/voice/html")
    @guard.protect
    def html() -> tuple[str, int]:
        return "<html><body>Internal Server Error</body></html>", 200

    @app.post("/voice/status-500")
    @guard.protect
    def status_500() -> tuple[str, int]:
        return dial_document("+14155550123"), 500

    @app.post("/voice/gone")
    @guard.protect
    def gone() -> str:
        abort(410)

    @app.post("/voice/streamed")
    @guard.protect
    def streamed() -> Response:
        document = dial_document("+14155550123", "+4930901820")
        return Response((document[i : i + 20] for i in range(0, len(document), 20)), mimetype="text/xml")

    return app, guard


@pytest.fixture
def voice_app(app_config: dict[str, Any], write_policy: Callable[..., Path]) -> Iterator[Flask]:
    campaign = '\n[campaigns.spring]\npurpose = "telemarketing"\norganization = "Acme"\ndisclosure = "Acme calling."\n'
    policy = write_policy(BASE_POLICY + campaign, name="protect.toml")
    app, _ = build_voice_app({**app_config, "CALLGUARD_POLICY": str(policy)})
    yield app
    app.extensions["callguard"].close()


@pytest.fixture
def tw(voice_app: Flask) -> TwilioClient:
    return TwilioClient(voice_app.test_client())


def test_an_allowed_dial_goes_back_as_the_app_wrote_it(tw: TwilioClient) -> None:
    response = tw.post("/voice/incoming", dial_params("+14155550123"))
    assert response.status_code == 200
    assert response.data.decode() == dial_document("+14155550123")
    assert response.headers["X-Callguard-Decision"] == "connect; reasons=ok"
    assert response.mimetype == "text/xml" and "session=kept" in response.headers["Set-Cookie"]


def test_a_refused_number_is_taken_out(tw: TwilioClient, voice_app: Flask) -> None:
    response = tw.post("/voice/incoming", dial_params("+14155550123", Numbers="+14155550123,+4930901820"))
    numbers = [n.text for n in parse_twiml(response.data).find("Dial")]
    assert numbers == ["+14155550123"]
    assert response.headers["X-Callguard-Decision"] == "connect; reasons=ok,geo.low_risk"
    assert response.mimetype == "application/xml" and "session=kept" in response.headers["Set-Cookie"]
    records = SqlAuditLog(voice_app.extensions["callguard"].engine).recent(limit=10)
    assert sorted((r.to_raw, r.action, r.source) for r in records) == [
        ("+14155550123", "connect", "wrapped"), ("+4930901820", "reject", "wrapped")
    ]


def test_a_fully_refused_dial_tells_the_action_it_failed(tw: TwilioClient) -> None:
    response = tw.post("/voice/incoming", dial_params("+4930901820"))
    (redirect,) = list(parse_twiml(response.data))
    assert redirect.tag == "Redirect" and urlsplit(redirect.text).path == "/voice/after-dial"
    assert parse_qs(urlsplit(redirect.text).query)["DialCallStatus"] == ["failed"]
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=geo.low_risk"


def test_an_unsigned_request_never_reaches_the_view(tw: TwilioClient) -> None:
    response = tw.post("/voice/broken", dial_params("+14155550123"), signature="forged")
    assert response.status_code == 403 and b"Forbidden" in response.data


def test_the_disclosure_whisper_chains_to_the_apps_own(tw: TwilioClient, clock: Any) -> None:
    from datetime import datetime

    clock.set(datetime(2026, 6, 1, 17, 0, tzinfo=UTC))
    response = tw.post("/voice/whisper-app", dial_params("+12125550123"))
    assert response.headers["X-Callguard-Decision"] == "disclose; reasons=disclosure.required"
    url = parse_twiml(response.data).find("Dial/Number").get("url")
    assert url.startswith(f"{PUBLIC_URL}/voice/disclosure?campaign=spring&next=")
    # Twilio fetches the whisper for the callee's leg: the disclosure, then the app's whisper.
    path = url[len(PUBLIC_URL):]
    leg = dial_params("+12125550123", Direction="outbound-dial", ParentCallSid="CA" + "p" * 32)
    whisper = parse_twiml(tw.post(path, leg).data)
    assert [e.tag for e in whisper] == ["Gather", "Redirect"]
    app_whisper = f"{PUBLIC_URL}/voice/app-whisper"  # the app's relative URL, resolved as Twilio would
    assert (whisper[1].text, whisper[1].get("method")) == (app_whisper, "GET")
    # Declining the opt-out goes on to the app's whisper too.
    optout_action = whisper[0].get("action")
    declined = parse_twiml(tw.post(optout_action[len(PUBLIC_URL):], {**leg, "Digits": "1"}).data)
    assert [(e.tag, e.text, e.get("method")) for e in declined] == [("Redirect", app_whisper, "GET")]


def test_a_tampered_whisper_url_hangs_up(tw: TwilioClient, clock: Any) -> None:
    from datetime import datetime

    clock.set(datetime(2026, 6, 1, 17, 0, tzinfo=UTC))
    url = parse_twiml(tw.post("/voice/whisper-app", dial_params("+12125550123")).data).find("Dial/Number").get("url")
    forged = url.replace("app-whisper", "evil")
    leg = dial_params("+12125550123", Direction="outbound-dial")
    root = parse_twiml(tw.post(forged[len(PUBLIC_URL):], leg).data)
    assert [e.tag for e in root] == ["Hangup"]


def test_status_callbacks_chain_to_the_apps_own_when_traffic_is_counted(
    app_config: dict[str, Any], write_policy: Callable[..., Path]
) -> None:
    app, _ = build_voice_app({**app_config, "CALLGUARD_POLICY": str(write_policy(BASE_POLICY + TRAFFIC, name="t.toml"))})
    try:
        tw = TwilioClient(app.test_client())
        number = parse_twiml(tw.post("/voice/counting", dial_params("+14155550123")).data).find("Dial/Number")
        query = parse_qs(urlsplit(number.get("statusCallback")).query)
        assert number.get("statusCallback").startswith(f"{PUBLIC_URL}/voice/status?forward=")
        assert query["forward"] == ["https://app.example.com/status"] and number.get("statusCallbackEvent") == "answered completed"
    finally:
        app.extensions["callguard"].close()


def test_a_campaign_with_limits_of_its_own_gets_status_callbacks(app_config: dict[str, Any], write_policy: Callable[..., Path]) -> None:
    campaign = '\n[campaigns.spring]\npurpose = "informational"\n\n[campaigns.spring.traffic]\nconcurrent = 5\n'
    app, _ = build_voice_app({**app_config, "CALLGUARD_POLICY": str(write_policy(BASE_POLICY + campaign, name="c.toml"))})
    try:
        tw = TwilioClient(app.test_client())
        plain = parse_twiml(tw.post("/voice/counting", dial_params("+14155550123")).data).find("Dial/Number")
        assert plain.get("statusCallback") == "https://app.example.com/status"  # nothing counts this call: the app's own, untouched
        counted = parse_twiml(tw.post("/voice/counting?campaign=spring", dial_params("+14155550123")).data).find("Dial/Number")
        assert counted.get("statusCallback").startswith(f"{PUBLIC_URL}/voice/status?campaign=spring&forward=")
    finally:
        app.extensions["callguard"].close()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/voice/broken", "upstream.fault"),
        ("/voice/html", "upstream.invalid"),
        ("/voice/status-500", "upstream.status"),
    ],
)
def test_a_failing_view_gets_the_policys_refusal_not_a_5xx(tw: TwilioClient, path: str, reason: str) -> None:
    response = tw.post(path, dial_params("+14155550123"))
    assert response.status_code == 200
    assert [e.tag for e in parse_twiml(response.data)] == ["Reject"]
    assert response.headers["X-Callguard-Decision"] == f"reject; reasons={reason}"


def test_an_http_error_the_view_means_is_kept(tw: TwilioClient) -> None:
    assert tw.post("/voice/gone", dial_params("+14155550123")).status_code == 410


def test_a_streamed_answer_is_policed(tw: TwilioClient) -> None:
    response = tw.post("/voice/streamed", dial_params("+14155550123"))
    assert [n.text for n in parse_twiml(response.data).find("Dial")] == ["+14155550123"]


def test_callguards_own_routes_are_served_on_the_app(tw: TwilioClient) -> None:
    response = tw.post("/voice/outbound", dial_params("+14155550123"))
    assert response.headers["X-Callguard-Decision"] == "connect; reasons=ok"


def _break_policing(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in the policing code")

    monkeypatch.setattr("callguard.web.wrapped.police_twiml", broken)


def test_a_policing_fault_refuses_under_fail_mode_reject(tw: TwilioClient, monkeypatch: pytest.MonkeyPatch) -> None:
    _break_policing(monkeypatch)
    response = tw.post("/voice/incoming", dial_params("+14155550123"))
    assert response.status_code == 200 and [e.tag for e in parse_twiml(response.data)] == ["Reject"]
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=fault.internal"
    # An emergency call goes through whatever the fault.
    emergency = tw.post("/voice/incoming", dial_params("911"))
    assert emergency.headers["X-Callguard-Decision"] == "connect; reasons=emergency,fault.internal"
    assert parse_twiml(emergency.data).find("Dial/Number").text == "911"


def test_a_policing_fault_passes_the_document_under_fail_mode_connect(
    app_config: dict[str, Any], write_policy: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = BASE_POLICY.replace('fail_mode = "reject"', 'fail_mode = "connect"', 1)
    app, _ = build_voice_app({**app_config, "CALLGUARD_POLICY": str(write_policy(text, name="open.toml"))})
    try:
        _break_policing(monkeypatch)
        response = TwilioClient(app.test_client()).post("/voice/incoming", dial_params("+4930901820"))
        assert response.headers["X-Callguard-Decision"] == "connect; reasons=fault.fail_open"
        assert response.data.decode() == dial_document("+4930901820")
    finally:
        app.extensions["callguard"].close()


def sip_uri_document() -> str:
    """A <Dial><Sip><Uri> as twilio's own builder writes it."""
    response = VoiceResponse()
    sip = response.dial(caller_id="+14155550100").sip()
    sip.uri("foo@example.com", priority=1, weight=10)
    sip.uri("sip:bob@pbx.example.com;transport=tls", priority=2)
    sip.headers().header(name="foo-bar", value="key")
    return str(response)


def test_a_sip_uri_connects_unchanged_when_non_pstn_targets_connect(app_config: dict[str, Any], write_policy: Callable[..., Path]) -> None:
    policy = write_policy(BASE_POLICY.replace("[defaults]\n", '[defaults]\nnon_pstn = "connect"\n', 1), name="sip.toml")
    app = Flask("sipapp")
    app.config.update({**app_config, "CALLGUARD_POLICY": str(policy)})
    guard = CallGuard(app)

    @app.post("/voice/pbx")
    @guard.protect
    def pbx() -> str:
        return sip_uri_document()

    try:
        response = TwilioClient(app.test_client()).post("/voice/pbx", dial_params("+14155550123"))
        assert response.status_code == 200 and response.headers["X-Callguard-Decision"] == "connect; reasons=ok"
        assert response.data.decode() == sip_uri_document()
        records = SqlAuditLog(app.extensions["callguard"].engine).recent(limit=10)
        assert sorted((r.to_raw, r.action) for r in records) == [
            ("sip:bob@pbx.example.com;transport=tls", "connect"), ("sip:foo@example.com", "connect")
        ]
    finally:
        app.extensions["callguard"].close()
