"""The baseline for benchmarks/decide.py: the webhook a developer would write by hand.

It only validates the signature, parses ``To`` with phonenumbers and returns ``<Dial>``.
"""

from __future__ import annotations

import os

import phonenumbers
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

app = Flask(__name__)
validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
PUBLIC_URL = os.environ["CALLGUARD_PUBLIC_URL"]


@app.post("/voice/outbound")
def outbound() -> Response:
    if not validator.validate(PUBLIC_URL + request.path, request.form, request.headers.get("X-Twilio-Signature", "")):
        return Response("Forbidden\n", status=403)
    number = phonenumbers.parse(request.form["To"], "US")
    response = VoiceResponse()
    response.dial(caller_id=request.form["From"]).number(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return Response(str(response), mimetype="application/xml")
