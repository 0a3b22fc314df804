"""callguard served by real gunicorn workers over loopback (callguard.cli.gunicorn)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from callguard.store import SqlAuditLog, create_database_engine

from ..conftest import dial_params, parse_twiml
from ..servers import Server, start_server

pytestmark = pytest.mark.server


def test_gunicorn_workers_answer_signed_webhooks_and_audit_every_decision(policy_path: Path, tmp_path: Path, servers: list[Server]) -> None:
    server = start_server(policy_path, tmp_path, workers=2)
    servers.append(server)
    calls = 40
    for i in range(calls):
        to = "+18765550100" if i % 4 == 0 else f"+1415555{i:04d}"
        response = server.post("/voice/outbound", dial_params(to, CallSid=f"CA{i:032d}"))
        body = response.read()
        assert response.status == 200
        root = parse_twiml(body)
        if i % 4 == 0:
            assert root.find("Reject") is not None
            assert response.getheader("X-Callguard-Decision") == "reject; reasons=geo.high_risk_tollfraud"
        else:
            assert root.find("Dial/Number").text == to
    forged = server.post("/voice/outbound", dial_params("+14155550123"), token="not-the-token")
    assert forged.status == 403

    # A graceful stop writes every worker's audit backlog before exiting.
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0
    audit = SqlAuditLog(create_database_engine(server.database_url))
    assert audit.count() == calls
    assert {r.call_sid for r in audit.recent(100)} == {f"CA{i:032d}" for i in range(calls)}


def test_a_runtime_suspension_reaches_every_instance_within_a_second(policy_path: Path, tmp_path: Path, servers: list[Server]) -> None:
    import time

    from callguard.store.overrides import OverrideStore

    from ..conftest import MAIN

    first = start_server(policy_path, tmp_path, workers=1)
    second = start_server(policy_path, tmp_path, workers=1, database_url=first.database_url)
    servers.extend([first, second])

    def decision(server: Server) -> str:
        response = server.post("/voice/outbound", dial_params("+14155550123"))
        response.read()
        return response.getheader("X-Callguard-Decision")

    assert decision(first) == decision(second) == "connect; reasons=ok"
    OverrideStore(create_database_engine(first.database_url)).set_suspended(MAIN, True, reason="fraud", actor="test", now=time.time())
    changed_at = time.monotonic()
    seen: dict[int, float] = {}
    while len(seen) < 2 and time.monotonic() - changed_at < 3:  # bounded: gives up after 3 s
        for server in (first, second):
            if server.port not in seen and decision(server) == "reject; reasons=account.suspended":
                seen[server.port] = time.monotonic() - changed_at
    assert set(seen) == {first.port, second.port}, seen
    assert max(seen.values()) < 1.0, seen


def test_metrics_add_up_every_worker(policy_path: Path, tmp_path: Path, servers: list[Server]) -> None:
    import http.client
    import socket

    from ..servers import signed_request
    from .test_metrics import sample

    server = start_server(policy_path, tmp_path, workers=2)
    servers.append(server)
    # Hold one worker on a half-sent request, so the next ten go to the other; then finish it.
    head, body = signed_request(server.port, "/voice/outbound", dial_params("+14155559999"))
    held = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    held.sendall(head + body[:5])
    for i in range(10):
        server.post("/voice/outbound", dial_params(f"+1415555{i:04d}")).read()
    held.sendall(body[5:])
    assert b"200 OK" in held.recv(65536)
    held.close()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    assert sample(text, "callguard_decisions_total", action="connect", reason="ok") == 11


def test_gunicorns_control_socket_is_off(policy_path: Path, tmp_path: Path, servers: list[Server]) -> None:
    # gunicorn's default path is one per user: every server of the host would take it over.
    home = tmp_path / "home"
    home.mkdir()
    quiet = start_server(policy_path, tmp_path / "quiet", workers=1, env={"HOME": str(home), "XDG_RUNTIME_DIR": ""})
    servers.append(quiet)
    assert quiet.post("/voice/outbound", dial_params("+14155550123")).status == 200
    quiet.process.send_signal(signal.SIGTERM)
    assert quiet.process.wait(timeout=30) == 0
    assert quiet.process.stderr is not None
    said = b"".join(quiet.log) + quiet.process.stderr.read()
    assert b"Control socket" not in said and not (home / ".gunicorn").exists()

