"""examples/voice_app.py wrapped with one decorator (protected_app.py), and left untouched behind
the proxy (proxy.toml)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ..conftest import MAIN_TOKEN, PUBLIC_URL, TwilioClient, dial_params, parse_twiml
from .conftest import EXAMPLES, load_example

NUMBERS = ["+14155550123", "+442079460018", "+4930901820"]


@pytest.fixture
def example_env(monkeypatch: pytest.MonkeyPatch, app_config: dict[str, Any]) -> None:
    for key in ("CALLGUARD_DATABASE_URL", "CALLGUARD_REGISTRY_DIR", "CALLGUARD_COUNTERS_PATH"):
        monkeypatch.setenv(key, str(app_config[key]))
    monkeypatch.setenv("CALLGUARD_PUBLIC_URL", PUBLIC_URL)
    monkeypatch.setenv("CALLGUARD_REFRESH_INTERVAL", "0")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", MAIN_TOKEN)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN_TENANT_A", "tenant-token")


def test_one_decorator_puts_the_checks_on_the_app(example_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLGUARD_POLICY", str(EXAMPLES / "policy.toml"))
    monkeypatch.setenv("VOICE_APP_PUBLIC_URL", PUBLIC_URL)  # the app checks signatures against its public URL
    app = load_example("protected_app").app
    try:
        tw = TwilioClient(app.test_client())
        response = tw.post("/voice/incoming", dial_params("+14155550100", from_="+12125550199"))
        assert response.status_code == 200
        # Berlin is not permitted by examples/policy.toml: it is taken out, the rest is the app's own.
        assert [n.text for n in parse_twiml(response.data).find("Dial")] == NUMBERS[:2]
        assert response.headers["X-Callguard-Decision"] == "connect; reasons=ok,geo.low_risk"
        # The app's other views are untouched.
        after = tw.post("/voice/after-dial", dial_params("+14155550100", DialCallStatus="failed"))
        assert [e.tag for e in parse_twiml(after.data)] == ["Say", "Record"] and "X-Callguard-Decision" not in after.headers
    finally:
        app.extensions["callguard"].close()


def test_the_untouched_app_behind_the_proxy(
    example_env: None, monkeypatch: pytest.MonkeyPatch, wsgi_server: Callable[[Any], str], make_app: Callable[..., Any],
    app_config: dict[str, Any], write_policy: Callable[..., Any],
) -> None:
    monkeypatch.delenv("VOICE_APP_PUBLIC_URL", raising=False)  # the app checks the URL callguard requested
    upstream = wsgi_server(load_example("voice_app").create_app())
    policy = (EXAMPLES / "proxy.toml").read_text().replace("http://127.0.0.1:5000", upstream)
    tw = TwilioClient(make_app({**app_config, "CALLGUARD_POLICY": str(write_policy(policy, name="proxy.toml"))}).test_client())
    response = tw.post("/voice/incoming", dial_params("+14155550100", from_="+12125550199"))
    dial = parse_twiml(response.data).find("Dial")
    assert [n.text for n in dial] == NUMBERS[:2]
    assert response.headers["X-Callguard-Decision"] == "connect; reasons=ok,geo.low_risk"
    # The app's relative URLs come back through callguard's routes, to the app.
    assert tw.post(dial.get("action"), dial_params("+14155550100", DialCallStatus="completed")).status_code == 200
    all_refused = (EXAMPLES / "proxy.toml").read_text().replace("http://127.0.0.1:5000", upstream).replace('GB = { low_risk = true }\n', "")
    all_refused = all_refused.replace('US = { low_risk = true }\n', "")
    tw = TwilioClient(make_app({**app_config, "CALLGUARD_POLICY": str(write_policy(all_refused, name="closed.toml"))}).test_client())
    redirect = parse_twiml(tw.post("/voice/incoming", dial_params("+14155550100")).data).find("Redirect")
    assert parse_qs(urlsplit(redirect.text).query)["DialCallStatus"] == ["failed"]
    message = parse_twiml(tw.post(redirect.text, dial_params("+14155550100")).data)
    assert [e.tag for e in message] == ["Say", "Record"]  # the app takes a message, as it would after a failed dial
