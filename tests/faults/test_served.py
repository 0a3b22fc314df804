"""The deadline in a real gunicorn worker (not a test client): a black-holed PostgreSQL and an
upstream app trickling its headers, each behind loopback TCP, answered within the deadline over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ..conftest import BASE_POLICY, dial_params, parse_twiml
from ..servers import Server, start_server
from .relay import FaultRelay, Mode
from .test_faults import TELEMARKETING
from .trickle import TrickleServer

pytestmark = pytest.mark.server

DEADLINE = 1.0
# Timed by the client, an answer also counts the worker being scheduled, which on a loaded 2-core
# machine adds tenths of a second; the in-process fault suite times the answers themselves.
# Without the deadline these answers took 8 s (the route's read_timeout) and more than 16 s.
WITHIN = DEADLINE * 1.5


def timed_post(server: Server, path: str, params: dict[str, str]) -> tuple[str, bytes, float]:
    started = time.monotonic()
    response = server.post(path, params, timeout=20)
    body = response.read()
    return response.getheader("X-Callguard-Decision") or "", body, time.monotonic() - started


@pytest.mark.postgres
def test_a_served_call_answers_within_the_deadline_while_postgresql_black_holes(
    write_policy: Callable[..., Path], tmp_path: Path, servers: list[Server], postgres_url: str, fault_relay: Callable[[int], FaultRelay]
) -> None:
    relay = fault_relay(5432)
    env = {"CALLGUARD_ANSWER_DEADLINE": str(DEADLINE), "CALLGUARD_AUTO_MIGRATE": "true"}
    policy = write_policy(BASE_POLICY + TELEMARKETING, name="served.toml")
    server = start_server(policy, tmp_path, workers=1, database_url=relay.url(postgres_url), env=env)
    servers.append(server)
    assert timed_post(server, "/voice/outbound?campaign=spring", dial_params("+12125550150"))[0].startswith("disclose")

    relay.set(Mode.BLACKHOLE)
    for number in ("+12125550151", "+12125550152"):
        decision, body, elapsed = timed_post(server, "/voice/outbound?campaign=spring", dial_params(number))
        assert decision == "reject; reasons=fault.internal" and elapsed < WITHIN
        parse_twiml(body)
    decision, body, elapsed = timed_post(server, "/voice/outbound", dial_params("911"))
    assert decision.startswith("connect; reasons=emergency") and elapsed < WITHIN
    assert parse_twiml(body).find("Dial/Number").text == "911"


def test_a_served_proxy_route_answers_within_the_deadline_while_its_app_trickles(
    write_policy: Callable[..., Path], tmp_path: Path, servers: list[Server]
) -> None:
    app = TrickleServer(interval=0.25)
    try:
        route = f'\n[[proxy.routes]]\npath = "/voice/app"\nupstream = "{app.url}"\nread_timeout = 8\n'
        server = start_server(write_policy(BASE_POLICY + route, name="served.toml"), tmp_path, workers=1,
                              env={"CALLGUARD_ANSWER_DEADLINE": str(DEADLINE)})
        servers.append(server)
        decision, body, elapsed = timed_post(server, "/voice/app", dial_params("+14155550123"))
        assert decision == "reject; reasons=upstream.timeout" and elapsed < WITHIN
        parse_twiml(body)
    finally:
        app.close()
