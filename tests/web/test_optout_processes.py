"""Opt-outs across gunicorn workers and through a SIGKILL (callguard.web.compliance, callguard.store.optouts)."""

from __future__ import annotations

import concurrent.futures
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from callguard.store import create_database_engine
from callguard.store.optouts import OptOutStore

from ..conftest import BASE_POLICY, MAIN, dial_params, parse_twiml
from ..servers import Server, signed_request, start_server

pytestmark = pytest.mark.server

CAMPAIGN = """
[campaigns.spring]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "This is Acme Solar calling about our spring offer."
calling_hours = { all = "00:00-24:00" }
"""
# The tests run at any real time of day: this campaign's callees are all in one place, and the
# policy opens calling hours around the clock there so the tests are about opt-outs only.
POLICY = BASE_POLICY + CAMPAIGN + (
    '\n[calling_hours]\ndefault = { all = "00:00-24:00" }\n'
    '[calling_hours.us_states.NY]\nall = "00:00-24:00"\n'
)


def callee_leg(to: str, **extra: str) -> dict[str, str]:
    return dial_params(to, Direction="outbound-dial", **extra)


def decision_of(server: Server, to: str) -> str:
    response = server.post("/voice/outbound?campaign=spring", dial_params(to))
    response.read()
    return response.getheader("X-Callguard-Decision")


def test_the_opt_out_round_trip_and_every_worker_honours_it(
    write_policy: Callable[..., Path], tmp_path: Path, servers: list[Server]
) -> None:
    server = start_server(write_policy(POLICY, name="tm.toml"), tmp_path, workers=2)
    servers.append(server)
    callee = "+12125550123"

    dial = server.post("/voice/outbound?campaign=spring", dial_params(callee))
    number = parse_twiml(dial.read()).find("Dial/Number")
    assert dial.getheader("X-Callguard-Decision") == "disclose; reasons=disclosure.required"
    whisper = urlsplit(number.get("url"))
    gather = parse_twiml(server.post(f"{whisper.path}?{whisper.query}", callee_leg(callee)).read()).find("Gather")
    action = urlsplit(gather.get("action"))
    confirmation = server.post(f"{action.path}?{action.query}", callee_leg(callee, Digits="9"))
    assert "will not receive further calls" in parse_twiml(confirmation.read()).find("Say").text

    # The next call must be refused by both workers, whichever recorded the opt-out. A sync
    # worker serves one connection at a time: hold one worker on a half-sent request, so the
    # next request is served by the other; then finish the held one.
    head, body = signed_request(server.port, "/voice/outbound?campaign=spring", dial_params(callee))
    held = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    held.sendall(head + body[:10])
    assert decision_of(server, callee) == "reject; reasons=dnc.optout"  # the worker not holding
    held.sendall(body[10:])
    answer = b""
    while chunk := held.recv(65536):
        answer += chunk
    held.close()
    assert b"X-Callguard-Decision: reject; reasons=dnc.optout" in answer  # the worker that was held


def test_every_acknowledged_opt_out_survives_a_sigkill(write_policy: Callable[..., Path], tmp_path: Path, servers: list[Server]) -> None:
    policy_path = write_policy(POLICY, name="tm.toml")
    server = start_server(policy_path, tmp_path, workers=2)
    servers.append(server)
    acknowledged: set[str] = set()
    lock = threading.Lock()
    killed = threading.Event()

    def opt_out(i: int) -> None:
        callee = f"+1212555{i:04d}"
        try:
            response = server.post("/voice/optout?campaign=spring", callee_leg(callee, Digits="9"), timeout=5)
            body = response.read()
        except OSError:
            return  # cut off by the kill: not acknowledged, so nothing is owed
        if response.getheader("X-Callguard-Decision") == "reject; reasons=optout.recorded" and b"will not receive" in body:
            with lock:
                acknowledged.add(callee)
                if len(acknowledged) == 60:
                    killed.set()

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(opt_out, i) for i in range(400)]
        assert killed.wait(timeout=60), f"only {len(acknowledged)} opt-outs acknowledged"
        server.kill()  # mid-stream: requests are still arriving
        concurrent.futures.wait(futures, timeout=60)
    assert 60 <= len(acknowledged) < 400

    restarted = start_server(policy_path, tmp_path, workers=2, database_url=server.database_url)
    servers.append(restarted)
    stored = {o.number for o in OptOutStore(create_database_engine(server.database_url)).list(account_sid=MAIN)}
    assert acknowledged <= stored
    for callee in sorted(acknowledged)[:5]:
        assert decision_of(restarted, callee) == "reject; reasons=dnc.optout"
