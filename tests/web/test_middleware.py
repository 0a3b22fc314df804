"""``GuardMiddleware`` around a plain WSGI app (callguard.web.middleware)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.test import Client, EnvironBuilder

from callguard import GuardMiddleware
from callguard.runtime.assemble import assemble
from callguard.runtime.settings import Settings

from ..conftest import MAIN_TOKEN, PUBLIC_URL, TwilioClient, dial_params, parse_twiml


class VoiceApp:
    """A WSGI app written against no framework: it checks signatures and dials what it is asked."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.closed = 0
        self.validator = RequestValidator(MAIN_TOKEN)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        self.calls.append(path)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode()
        params = {k: v[0] for k, v in parse_qs(body).items()}
        if path == "/health":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"app ok"]
        if not self.validator.validate(PUBLIC_URL + path, params, environ.get("HTTP_X_TWILIO_SIGNATURE", "")):
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"app says forbidden"]
        if path == "/twilio/crash":
            raise RuntimeError("boom")
        if path == "/twilio/error":
            start_response("500 Internal Server Error", [("Content-Type", "text/html")])
            return [b"<h1>Server Error</h1>"]
        response = VoiceResponse()
        response.dial(caller_id=params["From"]).number(params["To"])
        start_response("200 OK", [("Content-Type", "text/xml"), ("X-App", "kept")])
        return self._closing([str(response)[:40].encode(), str(response)[40:].encode()])

    def _closing(self, chunks: list[bytes]) -> Iterable[bytes]:
        app = self

        class Body(list):  # type: ignore[type-arg]
            def close(self) -> None:
                app.closed += 1

        return Body(chunks)


@pytest.fixture
def voice_app() -> VoiceApp:
    return VoiceApp()


@pytest.fixture
def middleware(voice_app: VoiceApp, app_config: dict[str, Any]) -> Iterator[GuardMiddleware]:
    runtime = assemble(Settings.from_mapping(app_config), app_config)
    guarded = GuardMiddleware(voice_app, paths=["/twilio/", "/voice-exact"], runtime=runtime)
    yield guarded
    guarded.close()


@pytest.fixture
def tw(middleware: GuardMiddleware) -> TwilioClient:
    return TwilioClient(Client(middleware))


def test_the_apps_twiml_is_policed(tw: TwilioClient, voice_app: VoiceApp) -> None:
    allowed = tw.post("/twilio/voice", dial_params("+14155550123"))
    assert allowed.status_code == 200 and allowed.headers["X-Callguard-Decision"] == "connect; reasons=ok"
    assert allowed.headers["X-App"] == "kept" and allowed.mimetype == "text/xml"
    assert parse_twiml(allowed.data).find("Dial/Number").text == "+14155550123"
    refused = tw.post("/voice-exact", dial_params("+4930901820"))
    assert [e.tag for e in parse_twiml(refused.data)] == ["Reject"]
    assert refused.headers["X-Callguard-Decision"] == "reject; reasons=geo.low_risk"
    assert refused.headers["Content-Length"] == str(len(refused.data)) and refused.mimetype == "application/xml"
    assert voice_app.calls == ["/twilio/voice", "/voice-exact"] and voice_app.closed == 2


def test_an_unsigned_request_never_reaches_the_app(tw: TwilioClient, voice_app: VoiceApp) -> None:
    assert tw.post("/twilio/voice", dial_params("+14155550123"), signature="forged").status_code == 403
    assert voice_app.calls == []


def test_other_paths_go_to_the_app_untouched(tw: TwilioClient, voice_app: VoiceApp) -> None:
    response = tw.client.get("/health")
    assert response.data == b"app ok" and "X-Callguard-Decision" not in response.headers
    assert tw.client.get("/voice-exact/more").data == b"app says forbidden"  # not guarded: exact path only


def test_callguards_own_endpoints_are_served(tw: TwilioClient, voice_app: VoiceApp) -> None:
    assert tw.client.get("/healthz").get_json()["status"] in ("ok", "degraded")
    status = tw.post("/voice/status", dial_params("+14155550123", CallStatus="completed"))
    assert status.status_code == 200 and list(parse_twiml(status.data)) == []
    assert tw.client.get("/voice/status").status_code == 403  # callguard's: unsigned
    assert voice_app.calls == []


@pytest.mark.parametrize(("path", "reason"), [("/twilio/crash", "upstream.fault"), ("/twilio/error", "upstream.status")])
def test_a_failing_app_gets_the_policys_refusal(tw: TwilioClient, path: str, reason: str) -> None:
    response = tw.post(path, dial_params("+14155550123"))
    assert response.status_code == 200 and response.headers["X-Callguard-Decision"] == f"reject; reasons={reason}"
    assert [e.tag for e in parse_twiml(response.data)] == ["Reject"]


def test_oversized_requests_are_forbidden(tw: TwilioClient, voice_app: VoiceApp) -> None:
    assert tw.post("/twilio/voice", dial_params("+14155550123", Padding="x" * 70_000)).status_code == 403
    assert voice_app.calls == []


def test_paths_must_be_paths(voice_app: VoiceApp, app: Any) -> None:
    with pytest.raises(ValueError):
        GuardMiddleware(voice_app, paths=[], callguard=app)
    with pytest.raises(ValueError):
        GuardMiddleware(voice_app, paths=["twilio/voice"], callguard=app)


def test_callguards_paths_win_over_a_guarded_prefix(voice_app: VoiceApp, app: Any) -> None:
    tw = TwilioClient(Client(GuardMiddleware(voice_app, paths=["/voice/"], callguard=app)))
    status = tw.post("/voice/status", dial_params("+14155550123", CallStatus="completed"))
    assert status.status_code == 200 and list(parse_twiml(status.data)) == []
    assert tw.post("/voice/sales", dial_params("+14155550123")).headers["X-Callguard-Decision"] == "connect; reasons=ok"
    assert voice_app.calls == ["/voice/sales"]


def chunked(params: dict[str, str], path: str, *, terminated: bool = True) -> dict[str, Any]:
    """The environ of a signed webhook whose body came chunked: no Content-Length."""
    body = urlencode(params).encode()
    signature = RequestValidator(MAIN_TOKEN).compute_signature(PUBLIC_URL + path, params)
    environ = EnvironBuilder(
        path=path,
        method="POST",
        input_stream=io.BytesIO(body),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature, "Transfer-Encoding": "chunked"},
    ).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    if terminated:
        environ["wsgi.input_terminated"] = True
    return environ


def call(middleware: GuardMiddleware, environ: dict[str, Any]) -> tuple[str, bytes]:
    started: list[str] = []
    body = b"".join(middleware(environ, lambda status, headers, exc_info=None: started.append(status)))
    return started[0], body


def test_a_chunked_webhook_is_read_where_the_server_ends_the_stream(middleware: GuardMiddleware, voice_app: VoiceApp) -> None:
    status, body = call(middleware, chunked(dial_params("+14155550123"), "/twilio/voice"))
    assert status == "200 OK" and parse_twiml(body).find("Dial/Number").text == "+14155550123"
    assert voice_app.calls == ["/twilio/voice"]  # and the app read the same body (its own signature check passed)
    status, _ = call(middleware, chunked(dial_params("+14155550123", Padding="x" * 70_000), "/twilio/voice"))
    assert status.startswith("403")
    status, _ = call(middleware, chunked(dial_params("+14155550123"), "/twilio/voice", terminated=False))
    assert status.startswith("403")  # no end to the stream that the server vouches for: nothing is read
    assert voice_app.calls == ["/twilio/voice"]


def test_the_middleware_serves_the_runtime_it_is_given(middleware: GuardMiddleware, tw: TwilioClient) -> None:
    runtime = middleware.callguard.extensions["callguard"].runtime
    assert runtime.started and tw.post("/twilio/voice", dial_params("+14155550123", CallSid="CA-served")).status_code == 200
    assert [(r.call_sid, r.source) for r in runtime.audit_sql.recent(10)] == [("CA-served", "wrapped")]
    middleware.close()
    assert runtime.closed


def test_the_middleware_builds_a_runtime_from_config(voice_app: VoiceApp, app_config: dict[str, Any]) -> None:
    guarded = GuardMiddleware(voice_app, paths=["/twilio/"], config=app_config)
    try:
        runtime = guarded.callguard.extensions["callguard"].runtime
        assert runtime.started and runtime.settings.public_url == PUBLIC_URL
        response = TwilioClient(Client(guarded)).post("/twilio/voice", dial_params("+14155550123"))
        assert response.headers["X-Callguard-Decision"] == "connect; reasons=ok"
    finally:
        guarded.close()


def test_a_runtime_built_for_a_middleware_that_cannot_start_is_closed(
    voice_app: VoiceApp, app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from callguard import ConfigError
    from callguard.runtime.runtime import Runtime

    closed: list[Runtime] = []
    close = Runtime.close

    def recording_close(self: Runtime) -> None:
        closed.append(self)
        close(self)

    monkeypatch.setattr(Runtime, "close", recording_close)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN_TENANT", raising=False)
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN_TENANT"):
        GuardMiddleware(voice_app, paths=["/twilio/"], config={k: v for k, v in app_config.items() if k != "TWILIO_AUTH_TOKEN_TENANT"})
    assert len(closed) == 1 and closed[0].closed and not closed[0].started
