"""Traffic counters shared by gunicorn workers (SQLite) and by instances on other ports (Redis)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from ..conftest import BASE_POLICY, dial_params
from ..servers import Server, signed_request, start_server

pytestmark = pytest.mark.server

VELOCITY = """
[[traffic.velocity]]
country = "GB"
max_calls = 3
window = "10m"
block_for = "1h"
"""


def decision(server: Server, to: str) -> str:
    response = server.post("/voice/outbound", dial_params(to))
    response.read()
    return response.getheader("X-Callguard-Decision")


def test_two_gunicorn_workers_share_one_view_of_the_sqlite_counters(
    write_policy: Callable[..., Path], tmp_path: Path, servers: list[Server]
) -> None:
    server = start_server(write_policy(BASE_POLICY + VELOCITY, name="v.toml"), tmp_path, workers=2)
    servers.append(server)
    # Hold one worker on a half-sent call, so the next two go to the other worker.
    head, body = signed_request(server.port, "/voice/outbound", dial_params("+442079460001"))
    held = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    held.sendall(head + body[:10])
    assert decision(server, "+442079460002") == "connect; reasons=ok"
    assert decision(server, "+442079460003") == "connect; reasons=ok"
    held.sendall(body[10:])
    answer = b""
    while chunk := held.recv(65536):
        answer += chunk
    held.close()
    assert b"X-Callguard-Decision: connect; reasons=ok" in answer  # the third call, on the first worker
    assert decision(server, "+442079460004") == "reject; reasons=traffic.velocity"  # whichever worker: four is over


@pytest.mark.redis
def test_two_instances_share_one_view_of_the_redis_counters(
    write_policy: Callable[..., Path], tmp_path: Path, servers: list[Server], redis_server: str, redis_prefix: str
) -> None:
    policy = write_policy(BASE_POLICY + VELOCITY, name="v.toml")
    env = {"CALLGUARD_REDIS_URL": redis_server, "CALLGUARD_REDIS_PREFIX": redis_prefix}
    first = start_server(policy, tmp_path / "a", workers=1, env=env)
    second = start_server(policy, tmp_path / "b", workers=1, env=env)
    servers.extend([first, second])
    assert first.port != second.port
    assert decision(first, "+442079460001") == "connect; reasons=ok"
    assert decision(second, "+442079460002") == "connect; reasons=ok"
    assert decision(first, "+442079460003") == "connect; reasons=ok"
    assert decision(second, "+442079460004") == "reject; reasons=traffic.velocity"
    assert decision(first, "+442079460005") == "reject; reasons=traffic.velocity"
