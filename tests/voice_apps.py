"""A voice app for callguard to sit in front of, served for real on loopback by the tests.

It checks every request's X-Twilio-Signature itself, as a careful app does, and records what
it received, so tests can see exactly what callguard forwarded.
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, abort, redirect, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse


@dataclass
class Received:
    path: str
    method: str
    params: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class UpstreamApp:
    app: Flask
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)  # lets /voice/slow answer


def make_upstream_app(token: str) -> UpstreamApp:
    app = Flask("upstream")
    state = UpstreamApp(app)
    validator = RequestValidator(token)

    @app.before_request
    def check_signature() -> None:
        params = request.form if request.method == "POST" else {}
        if not validator.validate(request.url, params, request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        state.received.append(
            Received(request.path, request.method, request.values.to_dict(flat=False), dict(request.headers))
        )

    @app.route("/voice/incoming", methods=["GET", "POST"])
    @app.route("/app/voice/<path:rest>", methods=["GET", "POST"])
    def incoming(rest: str = "") -> Response:
        response = VoiceResponse()
        response.say("Connecting you now.")
        dial = response.dial(caller_id=request.values.get("From"), action="after-dial")
        for number in request.values.get("Numbers", request.values.get("To", "")).split(","):
            dial.number(
                number,
                status_callback=request.values.get("AppStatusCallback") or None,
                status_callback_event=request.values.get("AppStatusEvents") or None,
            )
        return Response(str(response), mimetype="text/xml")

    @app.post("/voice/verbatim")
    def verbatim() -> Response:
        return Response(request.form["Document"], mimetype="text/xml")  # TwiML the test wrote, as it wrote it

    @app.post("/voice/slow")
    def slow() -> str:
        state.release.wait(10)
        return str(VoiceResponse())

    @app.post("/voice/garbage")
    def garbage() -> str:
        return "<html><body>Welcome to nginx!</body></html>"

    @app.post("/voice/huge")
    def huge() -> str:
        response = VoiceResponse()
        response.say("x" * 70_000)
        return str(response)

    @app.post("/voice/trickle")
    def trickle() -> Response:
        response = VoiceResponse()
        response.hangup()
        document = str(response)
        return Response((document[i : i + 8] for i in range(0, len(document), 8)), mimetype="text/xml")

    @app.post("/voice/gzipped")
    def gzipped() -> Response:
        response = VoiceResponse()
        response.dial("+14155550123")
        return Response(gzip.compress(str(response).encode()), mimetype="text/xml", headers={"Content-Encoding": "gzip"})

    @app.post("/voice/error")
    def error() -> tuple[str, int]:
        return "database down", 500

    @app.post("/voice/moved")
    def moved() -> Any:
        return redirect("/voice/incoming", code=307)

    @app.route("/status", methods=["GET", "POST"])
    def status() -> str:
        return ""

    @app.post("/voice/call-status")
    def call_status() -> Response:
        return Response(status=204)  # what examples/voice_app.py answers: nothing to say

    return state
