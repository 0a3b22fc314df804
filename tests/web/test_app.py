"""The app factory and the extension: configuration and start-up errors (callguard.web)."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from callguard import CallGuard, ConfigError, create_app
from callguard.errors import SchemaMismatch

from ..conftest import BASE_POLICY, MAIN, MAIN_TOKEN, TwilioClient, dial_params


def test_state_lives_in_app_extensions(app: Any) -> None:
    state = app.extensions["callguard"]
    assert state.guard.policy.accounts[MAIN].name == "Main"
    assert state.settings.max_body_bytes == 65_536 and app.config["MAX_CONTENT_LENGTH"] is None  # the limit is per request (body_limit)


def test_configuration_from_the_environment(monkeypatch: pytest.MonkeyPatch, policy_path: Path, sqlite_url: str) -> None:
    monkeypatch.setenv("CALLGUARD_POLICY", str(policy_path))
    monkeypatch.setenv("CALLGUARD_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("CALLGUARD_PUBLIC_URL", "https://cg.example.org/")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", MAIN_TOKEN)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN_TENANT", "tenant")
    app = create_app()
    try:
        assert app.extensions["callguard"].settings.public_url == "https://cg.example.org"
        response = TwilioClient(app.test_client(), "https://cg.example.org").post("/voice/outbound", dial_params("+14155550123"))
        assert response.status_code == 200
    finally:
        app.extensions["callguard"].close()


def test_the_extension_pattern(app_config: dict[str, Any]) -> None:
    app = Flask("someone-elses-app")
    app.config.update(app_config)
    guard = CallGuard()
    state = guard.init_app(app)
    try:
        assert app.extensions["callguard"] is state
        assert "callguard_voice.outbound" in app.view_functions
    finally:
        state.close()
    bare = Flask("no-routes")
    bare.config.update(app_config)
    CallGuard(bare, register_routes=False)
    assert "callguard_voice.outbound" not in bare.view_functions
    bare.extensions["callguard"].close()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"CALLGUARD_POLICY": None}, "CALLGUARD_POLICY: not set"),
        ({"CALLGUARD_PUBLIC_URL": "callguard.example.com"}, "CALLGUARD_PUBLIC_URL: 'callguard.example.com' is not an http(s) URL"),
        ({"CALLGUARD_AUDIT_MODE": "later"}, "CALLGUARD_AUDIT_MODE: expected 'batched' or 'sync'"),
        ({"CALLGUARD_MAX_BODY_BYTES": "lots"}, "CALLGUARD_MAX_BODY_BYTES: expected a number"),
        ({"CALLGUARD_DATABASE_URL": "oracle://x"}, "CALLGUARD_DATABASE_URL: unsupported database"),
        ({"TWILIO_AUTH_TOKEN_TENANT": None}, "auth_token_env: names the environment variable TWILIO_AUTH_TOKEN_TENANT, which is not set"),
        ({"TWILIO_AUTH_TOKEN": None}, f"accounts.{MAIN}: has no auth token"),
        ({"CALLGUARD_AUTO_MIGRATE": "maybe"}, "CALLGUARD_AUTO_MIGRATE: expected true or false, got 'maybe'"),
        ({"CALLGUARD_DATABASE_STALE_LIMIT": "1"}, "CALLGUARD_DATABASE_STALE_LIMIT: must be at least 5"),
        ({"CALLGUARD_LOG_NUMBERS": "partly"}, "CALLGUARD_LOG_NUMBERS: expected 'masked' or 'full', got 'partly'"),
        ({"CALLGUARD_LOG_FORMAT": "xml"}, "CALLGUARD_LOG_FORMAT: expected 'text' or 'json', got 'xml'"),
        ({"CALLGUARD_ANSWER_DEADLINE": "15"}, "CALLGUARD_ANSWER_DEADLINE: must be less than 15 s (Twilio's own webhook timeout), got 15"),
        ({"CALLGUARD_ANSWER_DEADLINE": "soon"}, "CALLGUARD_ANSWER_DEADLINE: expected a number, got 'soon'"),
        ({"CALLGUARD_DATABASE_TIMEOUT": "0.1"}, "CALLGUARD_DATABASE_TIMEOUT: must be at least 0.5"),
        ({"CALLGUARD_BREAKER_COOL_OFF": "0"}, "CALLGUARD_BREAKER_COOL_OFF: must be at least 0.05"),
        ({"CALLGUARD_MONOTONIC": 3}, "CALLGUARD_MONOTONIC: must be a callable returning seconds"),
        ({"CALLGUARD_AUDIT_RETENTION": "5 years"}, "CALLGUARD_AUDIT_RETENTION: expected a duration such as 5y, 400d, 36h or seconds"),
        ({"CALLGUARD_AUDIT_RETENTION": "5"}, "CALLGUARD_AUDIT_RETENTION: must be at least an hour (a bare number is seconds), got '5'"),
    ],
)
def test_bad_configuration_stops_start_up_with_one_line(
    app_config: dict[str, Any], change: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN_TENANT", "CALLGUARD_POLICY"):
        monkeypatch.delenv(key, raising=False)
    config = {k: v for k, v in {**app_config, **change}.items() if v is not None}
    with pytest.raises(ConfigError) as caught:
        create_app(config)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.postgres
def test_a_postgresql_schema_behind_the_code_stops_start_up_unless_migrating_is_allowed(
    make_app: Callable[..., Any], app_config: dict[str, Any], postgres_url: str
) -> None:
    config = {**app_config, "CALLGUARD_DATABASE_URL": postgres_url}
    with pytest.raises(SchemaMismatch) as caught:
        create_app(config)
    assert str(caught.value).startswith("CALLGUARD_DATABASE_URL: the database has no callguard schema")
    assert "run `callguard db upgrade`" in str(caught.value) and "\n" not in str(caught.value)
    app = make_app({**config, "CALLGUARD_AUTO_MIGRATE": "yes"})
    assert app.extensions["callguard"].settings.auto_migrate
    assert make_app(config).extensions["callguard"].settings.auto_migrate is False  # migrated now: starts


def test_sqlite_migrates_at_start_up_by_default(app: Any) -> None:
    from callguard.store.migrate import current_revision, head_revision

    state = app.extensions["callguard"]
    assert state.settings.auto_migrate and current_revision(state.engine) == head_revision()


def test_a_bad_policy_file_stops_start_up(app_config: dict[str, Any], write_policy: Callable[..., Path]) -> None:
    path = write_policy("[defaults]\nfail_mode = \"sometimes\"\n", name="bad.toml")
    with pytest.raises(ConfigError) as caught:
        create_app({**app_config, "CALLGUARD_POLICY": str(path)})
    assert str(caught.value) == f"{path}: defaults.fail_mode: expected one of 'reject', 'connect', got 'sometimes'"


def test_token_rotation_accepts_either_token(make_app: Callable[..., Any], app_config: dict[str, Any]) -> None:
    app = make_app({**app_config, "TWILIO_AUTH_TOKEN": f"old-token,{MAIN_TOKEN}"})
    twilio = TwilioClient(app.test_client())
    assert twilio.post("/voice/outbound", dial_params("+14155550123"), token="old-token").status_code == 200
    assert twilio.post("/voice/outbound", dial_params("+14155550123"), token=MAIN_TOKEN).status_code == 200
    assert twilio.post("/voice/outbound", dial_params("+14155550123"), token="other").status_code == 403


@pytest.mark.parametrize("host_first", [True, False], ids=["host-handlers-first", "callguard-first"])
def test_the_host_apps_error_handlers_keep_its_own_paths(app_config: dict[str, Any], host_first: bool) -> None:
    host = Flask("host-app")
    host.config.update(app_config)

    @host.get("/orders")
    def orders() -> str:
        return "orders"

    def register_host_handlers() -> None:
        host.register_error_handler(404, lambda exc: ("the host's own 404 page", 404))
        host.register_error_handler(405, lambda exc: ("the host's own 405 page", 405))

    if host_first:
        register_host_handlers()
    state = CallGuard().init_app(host)
    if not host_first:
        register_host_handlers()
    try:
        client = host.test_client()
        assert client.get("/no-such-page").get_data(as_text=True) == "the host's own 404 page"
        assert client.post("/orders").get_data(as_text=True) == "the host's own 405 page"
        missing = client.get("/v1/nothing")  # callguard's paths keep callguard's JSON errors
        assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
        wrong_method = client.get("/v1/check")
        assert wrong_method.status_code == 405 and wrong_method.get_json()["error"]["code"] == "method_not_allowed"
        assert "POST" in wrong_method.headers["Allow"]
    finally:
        state.close()


CAMPAIGN = """
[campaigns.spring]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "This is Acme Solar calling about our spring offer."
"""


def test_in_a_host_app_callguard_leaves_logging_alone_and_its_records_reach_the_hosts_handlers_masked(
    app_config: dict[str, Any], write_policy: Callable[..., Path]
) -> None:
    root, ours = logging.getLogger(), logging.getLogger("callguard")
    output = io.StringIO()
    host_handler = logging.StreamHandler(output)  # the host's own logging, set up before callguard starts
    root.addHandler(host_handler)
    before = (list(root.handlers), root.level, [handler.formatter for handler in root.handlers], ours.handlers[:], ours.level)
    host = Flask("host-app")
    host.config.update({**app_config, "CALLGUARD_POLICY": str(write_policy(BASE_POLICY + CAMPAIGN, name="tm.toml"))})
    state = CallGuard().init_app(host)
    try:
        assert (list(root.handlers), root.level, [handler.formatter for handler in root.handlers], ours.handlers, ours.level) == before
        ours.setLevel(logging.INFO)  # as the host would to see callguard's INFO lines (or CALLGUARD_LOG_LEVEL)
        callee = dial_params("+12125550123", Direction="outbound-dial", Digits="9")
        answer = TwilioClient(host.test_client()).post("/voice/optout?campaign=spring", callee)
        assert answer.headers["X-Callguard-Decision"] == "reject; reasons=optout.recorded"
    finally:
        state.close()
        root.removeHandler(host_handler)
        ours.setLevel(before[-1])
    assert "opt-out recorded: +1212•••0123 for account family" in output.getvalue()
    assert "12125550123" not in output.getvalue()
