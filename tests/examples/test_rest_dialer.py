"""examples/rest_dialer.py: calls.create through the guarded client, against a stand-in for Twilio's API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from twilio.rest import Client

from callguard import FakeClock
from callguard.store.audit import SqlAuditLog
from callguard.store.database import create_database_engine

from ..conftest import MAIN, MAIN_TOKEN
from ..twilio_api import make_twilio_api
from .conftest import EXAMPLES, load_example


def test_the_dialer_places_permitted_calls_and_skips_refused_ones(
    wsgi_server: Callable[[Any], str], monkeypatch: pytest.MonkeyPatch, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_twilio_api(MAIN, MAIN_TOKEN)
    twilio = Client(MAIN, MAIN_TOKEN)
    twilio.api.base_url = wsgi_server(api.app)
    monkeypatch.setenv("CALLGUARD_POLICY", str(EXAMPLES / "policy.toml"))
    monkeypatch.setenv("CALLGUARD_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("CALLGUARD_PUBLIC_URL", "https://cg.example.com")
    dialer = load_example("rest_dialer")
    argv = ["--from", "+14155550100", "--url", "https://app.example.com/voice/answer", "+14155550123", "+4930901820"]
    code = dialer.main(argv, twilio=twilio)
    assert code == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("+14155550123: placed CA") and out[1] == "+4930901820: blocked (geo.low_risk)"
    assert [c["To"] for c in api.created] == ["+14155550123"]
    records = SqlAuditLog(create_database_engine(sqlite_url)).recent()
    assert sorted((r.to_raw, r.action, r.source) for r in records) == [
        ("+14155550123", "connect", "rest"),
        ("+4930901820", "reject", "rest"),
    ]


def test_a_telemarketing_campaign_answers_through_callguard(
    wsgi_server: Callable[[Any], str], monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Any
) -> None:
    api = make_twilio_api(MAIN, MAIN_TOKEN)
    twilio = Client(MAIN, MAIN_TOKEN)
    twilio.api.base_url = wsgi_server(api.app)
    monkeypatch.setenv("CALLGUARD_POLICY", str(EXAMPLES / "policy.toml"))
    monkeypatch.setenv("CALLGUARD_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("CALLGUARD_REGISTRY_DIR", str(tmp_path / "registries"))
    monkeypatch.setenv("CALLGUARD_PUBLIC_URL", "https://cg.example.com")
    monday_afternoon = FakeClock(datetime(2026, 6, 1, 17, 0, tzinfo=UTC))  # 13:00 in New York
    argv = ["--from", "+14155550100", "--url", "https://app.example.com/voice/answer", "--campaign", "solar-spring", "+12125550123"]
    assert load_example("rest_dialer").main(argv, twilio=twilio, clock=monday_afternoon) == 0
    (created,) = api.created
    url = urlsplit(created["Url"])
    assert (url.netloc, url.path) == ("cg.example.com", "/voice/answer")
    assert parse_qs(url.query)["next"] == ["https://app.example.com/voice/answer"]
