"""A stand-in for Twilio's REST API on loopback: the Calls resource, speaking Twilio's JSON.

Twilio itself is unreachable from the tests; the real ``twilio`` client is pointed here
(``client.api.base_url``), so everything the client sends goes over HTTP as it would to Twilio.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from flask import Flask, jsonify, request


@dataclass
class TwilioApi:
    app: Flask
    created: list[dict[str, str]] = field(default_factory=list)


def make_twilio_api(account_sid: str, auth_token: str) -> TwilioApi:
    app = Flask("twilio-api")
    api = TwilioApi(app)
    expected = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()

    @app.post("/2010-04-01/Accounts/<sid>/Calls.json")
    def create_call(sid: str) -> Any:
        if request.headers.get("Authorization") != expected or sid != account_sid:
            return jsonify(code=20003, message="Authenticate", more_info="https://www.twilio.com/docs/errors/20003", status=401), 401
        # A repeated parameter (StatusCallbackEvent, as twilio sends a list) is recorded space-separated.
        form = {name: " ".join(values) for name, values in request.form.lists()}
        if not form.get("To") or not (form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")):
            more_info = "https://www.twilio.com/docs/errors/21205"
            return jsonify(code=21205, message="Url parameter is required.", more_info=more_info, status=400), 400
        api.created.append(form)
        call_sid = "CA" + uuid.uuid4().hex
        now = formatdate(usegmt=True).replace("GMT", "+0000")
        return jsonify(
            sid=call_sid, account_sid=sid, parent_call_sid=None, to=form["To"], to_formatted=form["To"], **{"from": form.get("From")},
            from_formatted=form.get("From"), status="queued", direction="outbound-api", api_version="2010-04-01",
            date_created=now, date_updated=now, start_time=None, end_time=None, duration=None, price=None, price_unit="USD",
            answered_by=None, caller_name=None, forwarded_from=None, group_sid=None, phone_number_sid=None, queue_time="0",
            trunk_sid=None, uri=f"/2010-04-01/Accounts/{sid}/Calls/{call_sid}.json", subresource_uris={},
        ), 201

    return api
