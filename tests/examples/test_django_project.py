"""examples/django_project: a Django site behind GuardMiddleware, run for real in this process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from ..conftest import BASE_POLICY, TwilioClient, dial_params, parse_twiml
from .conftest import EXAMPLES


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch, app_config: dict[str, Any], write_policy: Any) -> Iterator[Any]:
    monkeypatch.setenv("CALLGUARD_POLICY", str(write_policy(BASE_POLICY, name="django.toml")))
    for key in ("CALLGUARD_DATABASE_URL", "CALLGUARD_REGISTRY_DIR", "CALLGUARD_COUNTERS_PATH", "CALLGUARD_PUBLIC_URL", "TWILIO_AUTH_TOKEN"):
        monkeypatch.setenv(key, str(app_config[key]))
    monkeypatch.setenv("TWILIO_AUTH_TOKEN_TENANT", "tenant-token")
    monkeypatch.setenv("CALLGUARD_REFRESH_INTERVAL", "0")
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "localhost")
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "voicesite.settings")
    monkeypatch.syspath_prepend(str(EXAMPLES / "django_project"))
    for name in [m for m in sys.modules if m == "voicesite" or m.startswith("voicesite.")]:
        del sys.modules[name]
    from voicesite.wsgi import application

    yield application
    application.callguard.extensions["callguard"].close()


def test_django_answers_and_callguard_checks_the_dials(site: Any) -> None:
    tw = TwilioClient(Client(site))
    response = tw.post("/twilio/voice", dial_params("+14155550123", Numbers="+14155550123,+4930901820"))
    assert response.status_code == 200
    assert [n.text for n in parse_twiml(response.data).find("Dial")] == ["+14155550123"]
    assert response.headers["X-Callguard-Decision"] == "connect; reasons=ok,geo.low_risk"
    assert tw.post("/twilio/voice", dial_params("+14155550123"), signature="forged").status_code == 403


def test_the_rest_of_the_site_is_djangos(site: Any) -> None:
    client = Client(site)
    assert client.get("/health").data == b"ok"
    assert client.get("/healthz").get_json()["policy"]["accounts"] == 4  # callguard's own
    assert client.get("/nowhere").status_code == 404
