"""callguard served by real gunicorn workers over loopback (callguard.serve)."""

from __future__ import annotations

import http.client
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from callguard.store import SqlAuditLog, create_database_engine

from ..conftest import MAIN_TOKEN, TENANT_TOKEN, dial_params, parse_twiml

pytestmark = pytest.mark.server

WORKERS = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_lines(process: subprocess.Popen[bytes], needle: bytes, count: int, timeout: float) -> list[bytes]:
    """Read the server's stderr until ``needle`` has appeared ``count`` times (no sleeping)."""
    assert process.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stderr, selectors.EVENT_READ)
    seen: list[bytes] = []
    found = 0
    deadline = time.monotonic() + timeout
    while found < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not selector.select(remaining):
            raise AssertionError(f"server not ready; it said:\n{b''.join(seen).decode(errors='replace')}")
        line = process.stderr.readline()
        if not line:
            raise AssertionError(f"server exited; it said:\n{b''.join(seen).decode(errors='replace')}")
        seen.append(line)
        found += needle in line
    return seen


@pytest.fixture
def server(policy_path: Path, tmp_path: Path) -> Iterator[tuple[int, str, subprocess.Popen[bytes]]]:
    port = _free_port()
    database_url = f"sqlite:///{tmp_path / 'served.db'}"
    env = {
        **os.environ,
        "CALLGUARD_DATABASE_URL": database_url,
        "CALLGUARD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "TWILIO_AUTH_TOKEN": MAIN_TOKEN,
        "TWILIO_AUTH_TOKEN_TENANT": TENANT_TOKEN,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "callguard.cli", "serve", "--policy", str(policy_path), "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS)],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        _wait_for_lines(process, b"callguard ready", WORKERS, timeout=60)
        yield port, database_url, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def _post(port: int, path: str, params: dict[str, str], token: str = MAIN_TOKEN) -> http.client.HTTPResponse:
    signature = RequestValidator(token).compute_signature(f"http://127.0.0.1:{port}{path}", params)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(
        "POST",
        path,
        body=urlencode(params),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )
    return connection.getresponse()


def test_gunicorn_workers_answer_signed_webhooks_and_audit_every_decision(server: tuple[int, str, subprocess.Popen[bytes]]) -> None:
    port, database_url, process = server
    calls = 40
    for i in range(calls):
        to = "+18765550100" if i % 4 == 0 else f"+1415555{i:04d}"
        response = _post(port, "/voice/outbound", dial_params(to, CallSid=f"CA{i:032d}"))
        body = response.read()
        assert response.status == 200
        root = parse_twiml(body)
        if i % 4 == 0:
            assert root.find("Reject") is not None
            assert response.getheader("X-Callguard-Decision") == "reject; reasons=geo.high_risk_tollfraud"
        else:
            assert root.find("Dial/Number").text == to
    forged = _post(port, "/voice/outbound", dial_params("+14155550123"), token="not-the-token")
    assert forged.status == 403

    # A graceful stop writes every worker's audit backlog before exiting.
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    audit = SqlAuditLog(create_database_engine(database_url))
    assert audit.count() == calls
    assert {r.call_sid for r in audit.recent(100)} == {f"CA{i:032d}" for i in range(calls)}
