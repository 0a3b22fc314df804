"""callguard.cli.gunicorn: the gunicorn application and hooks, and the checks before any worker starts
(tests/web/test_server.py runs the server itself)."""

from __future__ import annotations

import gc
import http.client
import json
import os
import signal
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from twilio.request_validator import RequestValidator

from callguard.cli import main
from callguard.cli.gunicorn import CallguardServer, freeze_startup_objects, gunicorn_options

from ..conftest import MAIN, MAIN_TOKEN, TENANT_TOKEN, free_port


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_every_worker_freezes_its_startup_objects_once_the_app_is_built(unfrozen: None) -> None:
    server = CallguardServer({}, {"bind": "127.0.0.1:0", "workers": 1})
    assert gc.get_freeze_count() == 0
    server.cfg.post_worker_init(None)  # gunicorn calls it with the worker, after the worker's load()
    assert gc.get_freeze_count() > 0


def test_freezing_keeps_the_live_objects_from_the_collector_and_collects_the_garbage_first(unfrozen: None) -> None:
    class Node:
        pass

    gc.disable()  # no automatic collection may free the cycle before the freeze does
    try:
        cycle = Node()
        cycle.self = cycle  # type: ignore[attr-defined]
        gone = weakref.ref(cycle)
        del cycle  # garbage only the cyclic collector can free
        alive = [Node() for _ in range(10)]
        assert gone() is not None
        freeze_startup_objects()
    finally:
        gc.enable()
    assert gone() is None  # freed, not frozen for good
    assert gc.get_freeze_count() > len(alive)
    alive_ids = {id(obj) for obj in alive}
    assert not any(id(obj) in alive_ids for obj in gc.get_objects(generation=2))  # out of the collector's generations


def test_gunicorns_control_socket_only_at_a_path_given() -> None:
    off = CallguardServer({}, gunicorn_options(workers=1))
    assert off.cfg.control_socket_disable is True
    on = CallguardServer({}, gunicorn_options(workers=1, control_socket="/run/callguard/gunicorn.ctl"))
    assert on.cfg.control_socket_disable is False and on.cfg.control_socket == "/run/callguard/gunicorn.ctl"
    assert off.cfg.worker_class_str == "sync" and off.cfg.limit_request_fields == 100


# -- bad settings stop start-up once, in the master, with one line ------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _serve(policy_path: Path, tmp_path: Path, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["serve", "--policy", str(policy_path)],
        env={"TWILIO_AUTH_TOKEN": MAIN_TOKEN, "TWILIO_AUTH_TOKEN_TENANT": TENANT_TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "m"),
             "CALLGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 'cg.db'}", "CALLGUARD_COUNTERS_PATH": str(tmp_path / "counters.db"), **env},
    )
    return result.exit_code, result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CALLGUARD_ADMIN_TOKEN": "short"}, "callguard: CALLGUARD_ADMIN_TOKEN: must be at least 16 characters\n"),
        ({"CALLGUARD_ADMIN_TOKENS": "ops=short:rw"},
         "callguard: CALLGUARD_ADMIN_TOKENS: entry 1 is not name=token:ro or name=token:rw (tokens of 16 characters or more)\n"),
        ({"CALLGUARD_LOG_LEVEL": "chatty"},
         "callguard: CALLGUARD_LOG_LEVEL: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'chatty'\n"),
        ({"CALLGUARD_LOG_NUMBERS": "partly"}, "callguard: CALLGUARD_LOG_NUMBERS: expected 'masked' or 'full', got 'partly'\n"),
        ({"CALLGUARD_LOG_FORMAT": "xml"}, "callguard: CALLGUARD_LOG_FORMAT: expected 'text' or 'json', got 'xml'\n"),
        ({"CALLGUARD_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, None),
    ],
    ids=["admin-token", "admin-tokens", "log-level", "log-numbers", "log-format", "database"],
)
def test_serve_checks_every_setting_before_a_worker_starts(
    policy_path: Path, tmp_path: Path, env: dict[str, str], message: str | None
) -> None:
    code, err = _serve(policy_path, tmp_path, **env)
    assert code == 2
    if message is None:
        assert err.startswith("callguard: CALLGUARD_DATABASE_URL: cannot open the database: ") and err.count("\n") == 1
    else:
        assert err == message


def test_serve_without_a_policy_names_the_option() -> None:
    result = CliRunner().invoke(main, ["serve"], env={"CALLGUARD_POLICY": ""})
    assert result.exit_code == 2
    assert result.stderr == "callguard: --policy: no policy file given (or set CALLGUARD_POLICY)\n"


def _gunicorn(tmp_path: Path, env: dict[str, str], *, timeout: float = 60) -> subprocess.Popen[str]:
    """``gunicorn wsgi:app`` as the docs run it: from the checkout, where wsgi.py and gunicorn.conf.py are."""
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{free_port()}", "--workers", "2", "wsgi:app"],
        cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        env={
            "PATH": os.environ.get("PATH", ""), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "m"),
            "CALLGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 'cg.db'}", "CALLGUARD_COUNTERS_PATH": str(tmp_path / "counters.db"), **env,
        },
    )


@pytest.mark.server
@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "callguard: CALLGUARD_POLICY: not set: point it at a policy file, e.g. CALLGUARD_POLICY=examples/policy.toml "
             "(or callguard serve --policy examples/policy.toml)"),
        ({"CALLGUARD_POLICY": "examples/policy.toml", "TWILIO_AUTH_TOKEN": "t", "TWILIO_AUTH_TOKEN_TENANT_A": "u",
          "CALLGUARD_ADMIN_TOKEN": "short"},
         "callguard: CALLGUARD_ADMIN_TOKEN: must be at least 16 characters"),
        # gunicorn builds its logger (callguard's, which reads CALLGUARD_LOG_FORMAT) before on_starting runs the checks
        ({"CALLGUARD_POLICY": "examples/policy.toml", "TWILIO_AUTH_TOKEN": "t", "TWILIO_AUTH_TOKEN_TENANT_A": "u",
          "CALLGUARD_LOG_FORMAT": "yaml"},
         "callguard: CALLGUARD_LOG_FORMAT: expected 'text' or 'json', got 'yaml'"),
    ],
    ids=["no-policy", "short-admin-token", "log-format"],
)
def test_gunicorn_wsgi_app_stops_once_with_one_line(tmp_path: Path, env: dict[str, str], message: str) -> None:
    process = _gunicorn(tmp_path, env)
    try:
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 2
    ours = [line for line in err.splitlines() if line.startswith("callguard:")]
    assert ours == [message]
    assert "Traceback" not in err and "Booting worker" not in err  # stopped before any worker forked


@pytest.mark.server
def test_gunicorn_wsgi_app_serves_with_callguards_hooks(policy_path: Path, tmp_path: Path) -> None:
    from ..servers import wait_for_lines

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "wsgi:app"],
        cwd=ROOT, bufsize=0, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True,
        env={
            "PATH": os.environ.get("PATH", ""), "CALLGUARD_POLICY": str(policy_path), "TWILIO_AUTH_TOKEN": MAIN_TOKEN,
            "TWILIO_AUTH_TOKEN_TENANT": TENANT_TOKEN, "CALLGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 'cg.db'}",
            "CALLGUARD_COUNTERS_PATH": str(tmp_path / "counters.db"), "CALLGUARD_LOG_FORMAT": "json",
        },
    )
    try:
        started = wait_for_lines(process, b"callguard ready", 2, timeout=60)
        # gunicorn.conf.py's logger_class: gunicorn's own lines are JSON too, as callguard's are
        loggers = {json.loads(line)["logger"] for line in started}
        assert {"gunicorn.error", "callguard"} <= loggers
        params = {"AccountSid": MAIN, "CallSid": "CA" + "1" * 32, "From": "+14155550100", "To": "+14155550123"}
        url = f"http://127.0.0.1:{port}/voice/outbound"
        signature = RequestValidator(MAIN_TOKEN).compute_signature(url, params)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("POST", "/voice/outbound", body=urlencode(params),
                           headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
        response = connection.getresponse()
        assert response.status == 200 and response.getheader("X-Callguard-Decision") == "connect; reasons=ok"
        # The master prepared one metrics directory for every worker (callguard.cli.gunicorn_conf's on_starting).
        metrics = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        metrics.request("GET", "/metrics")
        assert b"callguard_decisions_total" in metrics.getresponse().read()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
