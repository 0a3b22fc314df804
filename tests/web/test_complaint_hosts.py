"""Complaints across two callguard instances (gunicorn, on different ports) sharing the real
PostgreSQL and Redis: a complaint posted to one is honoured by the other within a second, its
opt-out and, at the threshold and not before, its caller ID's throttle
(callguard.store.complaints, callguard.traffic.complaints)."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..conftest import ADMIN_TOKEN, BASE_POLICY, MAIN, dial_params
from ..servers import Server, start_server

pytestmark = [pytest.mark.server, pytest.mark.postgres, pytest.mark.redis]

POLICY = BASE_POLICY + """
[campaigns.spring]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "This is Acme Solar calling about our spring offer."

[calling_hours]
default = { all = "00:00-24:00" }
[calling_hours.us_states.NY]
all = "00:00-24:00"
[calling_hours.us_states.IL]
all = "00:00-24:00"

[traffic.complaints]
caller_id = { max = 2, window = "30d", cooldown = "7d" }
"""
COMPLAINED_OF = "+14155550101"  # a caller ID of MAIN's
DEADLINE = 1.0  # seconds from the API's answer
CONFIRMATIONS = 8  # answers after the deadline that must all agree (B has two workers)


def complain(server: Server, callee: str) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    body = {"number": callee, "caller_id": COMPLAINED_OF, "account_sid": MAIN, "source": "consumer"}
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
    connection.request("POST", "/v1/complaints", body=json.dumps(body), headers=headers)
    response = connection.getresponse()
    assert response.status == 201
    answer: dict[str, Any] = json.loads(response.read())
    return answer


def decision(server: Server, to: str, from_: str = "+14155550100", campaign: bool = False) -> str:
    response = server.post("/voice/outbound" + ("?campaign=spring" if campaign else ""), dial_params(to, from_))
    response.read()
    return str(response.getheader("X-Callguard-Decision"))


def honoured_within_deadline(ask: Callable[[], str], expected: str, since: float) -> float:
    """Ask until the answer is ``expected``, which must come before the deadline and hold after it."""
    first = None
    while True:
        got = ask()
        now = time.monotonic()
        if got == expected and first is None:
            first = now - since
        if now - since >= DEADLINE:
            break
    assert first is not None, f"still {got!r} {DEADLINE} s after the complaint"
    assert [ask() for _ in range(CONFIRMATIONS)] == [expected] * CONFIRMATIONS
    return first


def test_a_complaint_to_one_host_is_honoured_by_the_other_within_a_second(
    write_policy: Callable[..., Path], tmp_path: Path, servers: list[Server], postgres_url: str, redis_server: str, redis_prefix: str
) -> None:
    upgraded = subprocess.run(
        [sys.executable, "-m", "callguard.cli", "db", "upgrade", "--database-url", postgres_url], capture_output=True, text=True, timeout=60
    )
    assert upgraded.returncode == 0, upgraded.stderr
    policy_path = write_policy(POLICY, name="hosts.toml")
    # The policy poll slowed to 30 s: nothing but the database and Redis carries the complaint.
    env = {"CALLGUARD_ADMIN_TOKEN": ADMIN_TOKEN, "CALLGUARD_REDIS_URL": redis_server, "CALLGUARD_REDIS_PREFIX": redis_prefix,
           "CALLGUARD_REFRESH_INTERVAL": "30"}
    a = start_server(policy_path, tmp_path / "a", workers=1, database_url=postgres_url, env=env)
    servers.append(a)
    b = start_server(policy_path, tmp_path / "b", workers=2, database_url=postgres_url, env=env)
    servers.append(b)

    assert decision(b, "+13125550124", campaign=True) == "disclose; reasons=disclosure.required"
    assert complain(a, "+13125550124")["fired"] == []
    took = {"opt-out": honoured_within_deadline(lambda: decision(b, "+13125550124", campaign=True), "reject; reasons=dnc.optout",
                                                time.monotonic())}
    # One complaint about the caller ID: its calls go on, on every worker.
    assert [decision(b, f"+1312555017{n}", COMPLAINED_OF) for n in range(CONFIRMATIONS)] == ["connect; reasons=ok"] * CONFIRMATIONS
    assert complain(a, "+13125550125")["fired"] == ["complaints.caller_id"]
    took["throttle"] = honoured_within_deadline(
        lambda: decision(b, "+13125550180", COMPLAINED_OF), "reject; reasons=complaints.caller_id", time.monotonic()
    )
    assert decision(b, "+13125550181") == "connect; reasons=ok"  # the account's other caller ID
    print("honoured by the other instance after (s):", {name: round(seconds, 3) for name, seconds in took.items()})
