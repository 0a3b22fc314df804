"""Any webhook body: ``POST /voice/outbound`` answers valid TwiML (200) or 403 (unsigned), or 413
(too large) — never a 5xx. Half the inputs are signed as Twilio would sign the parameters they
parse to, so that they reach the decision."""

from __future__ import annotations

import atexit
import tempfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.formparser import parse_form_data
from werkzeug.test import EnvironBuilder

from callguard.web.app import create_app

from .driver import fuzz
from .guards import POLICY

TOKEN = "fuzz-auth-token-0123456789abcdef"
BASE = "https://callguard.example.com"
_work = tempfile.TemporaryDirectory(prefix="callguard-fuzz-")
atexit.register(_work.cleanup)
_policy = Path(_work.name) / "policy.toml"
_policy.write_text(POLICY)
APP = create_app(
    {
        "CALLGUARD_POLICY": str(_policy),
        "CALLGUARD_DATABASE_URL": f"sqlite:///{Path(_work.name) / 'callguard.db'}",
        "CALLGUARD_COUNTERS_PATH": str(Path(_work.name) / "counters.db"),
        "CALLGUARD_REGISTRY_DIR": str(Path(_work.name) / "registries"),
        "CALLGUARD_PUBLIC_URL": BASE,
        "CALLGUARD_AUDIT_MODE": "sync",
        "CALLGUARD_REFRESH_INTERVAL": 0,
        "CALLGUARD_TWILIO_SYNC_INTERVAL": 0,
        "TWILIO_AUTH_TOKEN": TOKEN,
    }
)
CLIENT = APP.test_client()
VALIDATOR = RequestValidator(TOKEN)
CONTENT_TYPES = ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8", "multipart/form-data")


def _parsed(body: bytes, content_type: str) -> MultiDict[str, str]:
    environ = EnvironBuilder(method="POST", data=body, content_type=content_type).get_environ()
    return parse_form_data(environ)[1]


def check(data: bytes) -> None:
    if not data:
        return
    signed, content_type, body = data[0] & 1, CONTENT_TYPES[(data[0] >> 1) % len(CONTENT_TYPES)], data[1:]
    headers: dict[str, Any] = {"Content-Type": content_type}
    if signed:
        headers["X-Twilio-Signature"] = VALIDATOR.compute_signature(BASE + "/voice/outbound", _parsed(body, content_type))
    response = CLIENT.post("/voice/outbound", data=body, headers=headers, base_url=BASE)
    if response.status_code not in (200, 403, 413):
        raise AssertionError(f"answered {response.status_code}: {response.get_data()[:200]!r}")
    if response.status_code == 200:
        root = ElementTree.fromstring(response.get_data())
        if root.tag != "Response":
            raise AssertionError(f"answered <{root.tag}>, not <Response>")


if __name__ == "__main__":
    fuzz(check)
