"""``CALLGUARD_MAX_BODY_BYTES`` holds on callguard's own requests, not on the host app's (callguard.web.body_limit)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from callguard import CallGuard
from callguard.web.body_limit import limit_body

from ..conftest import ADMIN_TOKEN, MAIN_TOKEN, PUBLIC_URL, TwilioClient, dial_params, parse_twiml

LIMIT = 4096


@pytest.fixture
def host(app_config: dict[str, Any]) -> Iterator[Flask]:
    """Someone else's app: an upload route of its own, and a dialling view callguard protects."""
    app = Flask("host")
    app.config.update(app_config, CALLGUARD_MAX_BODY_BYTES=LIMIT)
    guard = CallGuard(app)
    app.calls = []  # type: ignore[attr-defined]

    @app.post("/upload")
    def upload() -> str:
        return str(len(request.get_data()))

    @app.post("/voice/incoming")
    @guard.protect
    def incoming() -> str:
        app.calls.append(request.form["CallSid"])  # type: ignore[attr-defined]
        response = VoiceResponse()
        response.dial().number(request.form["To"])
        return str(response)

    yield app
    app.extensions["callguard"].close()


def chunked_post(app: Flask, path: str, params: dict[str, str]) -> Any:
    """A signed webhook whose body comes without a Content-Length, as a chunked request does."""
    body = urlencode(params).encode()
    signature = RequestValidator(MAIN_TOKEN).compute_signature(PUBLIC_URL + path, params)
    return app.test_client().post(
        path,
        input_stream=io.BytesIO(body),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},  # the server ends the stream
    )


def test_the_host_apps_own_routes_keep_their_limits(host: Flask) -> None:
    assert host.config["MAX_CONTENT_LENGTH"] is None
    response = host.test_client().post("/upload", data=b"x" * 1_000_000, content_type="application/octet-stream")
    assert response.status_code == 200 and response.text == "1000000"


def test_a_protected_view_never_sees_an_oversized_webhook(host: Flask) -> None:
    tw = TwilioClient(host.test_client())
    small = tw.post("/voice/incoming", dial_params("+14155550123"))
    assert small.status_code == 200 and [e.tag for e in parse_twiml(small.data)] == ["Dial"]
    assert tw.post("/voice/incoming", dial_params("+14155550123", Padding="x" * LIMIT)).status_code == 403
    assert len(host.calls) == 1  # type: ignore[attr-defined]


def test_a_chunked_webhook_is_read_up_to_the_limit_only(host: Flask) -> None:
    small = chunked_post(host, "/voice/incoming", dial_params("+14155550123"))
    assert small.status_code == 200 and [e.tag for e in parse_twiml(small.data)] == ["Dial"]
    assert chunked_post(host, "/voice/incoming", dial_params("+14155550123", Padding="x" * LIMIT)).status_code == 403
    assert len(host.calls) == 1  # type: ignore[attr-defined]


def test_callguards_own_webhooks_refuse_oversized_bodies(host: Flask) -> None:
    tw = TwilioClient(host.test_client())
    assert tw.post("/voice/outbound", dial_params("+14155550123")).status_code == 200
    assert tw.post("/voice/outbound", dial_params("+14155550123", Padding="x" * LIMIT)).status_code == 403
    assert chunked_post(host, "/voice/outbound", dial_params("+14155550123", Padding="x" * LIMIT)).status_code == 403


def test_the_json_api_answers_413_for_an_oversized_body(host: Flask) -> None:
    client = host.test_client()
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    body = {"account_sid": "AC" + "0" * 32, "to": "+14155550123", "note": "x" * LIMIT}
    response = client.post("/v1/check", json=body, headers=headers)
    assert response.status_code == 413 and response.json["error"]["code"] == "too_large"
    assert client.post("/v1/check", json={**body, "note": ""}, headers=headers).status_code == 200


@pytest.mark.parametrize(
    "app_limit, declared, expected",
    [
        (None, 100, None),  # within the limit: read as declared, no wrapping stream
        (None, LIMIT + 1, LIMIT),
        (None, None, LIMIT),  # chunked: cut off at the limit
        (1000, None, 1000),  # the app's own lower limit stands
        (1_000_000, None, LIMIT),
    ],
)
def test_limit_body(app_limit: int | None, declared: int | None, expected: int | None) -> None:
    app = Flask("limits")
    app.config["MAX_CONTENT_LENGTH"] = app_limit
    environ = {"CONTENT_LENGTH": str(declared)} if declared is not None else {"HTTP_TRANSFER_ENCODING": "chunked"}
    with app.test_request_context("/", method="POST", environ_overrides=environ):
        limit_body(request, LIMIT)
        assert request.max_content_length == (app_limit if expected is None else expected)
