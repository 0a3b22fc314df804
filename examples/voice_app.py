"""An existing voice app, as many are: Flask views that answer Twilio with TwiML.

A caller reaches Acme's sales line: the app rings the sales team at once and, if nobody
answers, takes a message. It checks Twilio's signature itself. Nothing here knows callguard:

- ``protected_app.py`` wraps the dialling view with one decorator, ``guard.protect``;
- ``proxy.toml`` puts callguard in front of this app, left untouched, as an upstream.

Run it bare (docs/examples.md tries it with ``callguard simulate``):

    TWILIO_AUTH_TOKEN=your_auth_token flask --app examples/voice_app.py run --port 5000
"""

from __future__ import annotations

import os

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

# The numbers to ring (SALES_TEAM, comma-separated). The third default is in Berlin, which the
# example policy does not permit: callguard takes it out.
SALES_TEAM = os.environ.get("SALES_TEAM", "+14155550123,+442079460018,+4930901820").split(",")
CALLER_ID = "+14155550100"


def _signed_url() -> str:
    """The URL Twilio requested: behind a load balancer, the public one."""
    public = os.environ.get("VOICE_APP_PUBLIC_URL")
    if not public:
        return request.url
    query = request.query_string.decode()
    return public.rstrip("/") + request.path + (f"?{query}" if query else "")


def _check_signature() -> None:
    validator = RequestValidator(os.environ.get("TWILIO_AUTH_TOKEN", ""))
    if not validator.validate(_signed_url(), request.form, request.headers.get("X-Twilio-Signature", "")):
        abort(403)


def twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def incoming() -> Response:
    """Ring the whole sales team; whoever answers first gets the call."""
    _check_signature()
    response = VoiceResponse()
    response.say("Thanks for calling Acme. Connecting you to sales.")
    dial = response.dial(caller_id=CALLER_ID, action="/voice/after-dial", timeout=20)
    for number in SALES_TEAM:
        dial.number(number, status_callback="/voice/call-status")
    return twiml(response)


def after_dial() -> Response:
    """Nobody took the call (or it could not be placed): take a message."""
    _check_signature()
    response = VoiceResponse()
    if request.values.get("DialCallStatus") == "completed":
        response.hangup()
    else:
        response.say("Sorry, nobody from sales is available. Please leave a message after the tone.")
        response.record(max_length=120)
    return twiml(response)


def call_status() -> Response:
    _check_signature()
    return Response(status=204)


def create_app() -> Flask:
    app = Flask("voice_app")
    app.add_url_rule("/voice/incoming", view_func=incoming, methods=["POST"])
    app.add_url_rule("/voice/after-dial", view_func=after_dial, methods=["POST"])
    app.add_url_rule("/voice/call-status", view_func=call_status, methods=["POST"])
    return app


app = create_app()
