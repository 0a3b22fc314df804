"""Two callguard instances (gunicorn, on different ports) sharing the real PostgreSQL and Redis: a
change made through one instance's admin API is enforced by the other within one second
(callguard.store.change_notices, callguard.runtime.refresh)."""

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

from ..conftest import ADMIN_TOKEN, BASE_POLICY, MAIN, MAIN_TOKEN, TENANT, TENANT_TOKEN, dial_params, free_port
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
"""
DEADLINE = 1.0  # seconds from the API's answer
CONFIRMATIONS = 8  # requests after the deadline that must all be enforced (B has two workers; these land on either)


def api(server: Server, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def decision(server: Server, path: str, params: dict[str, str], token: str) -> str:
    response = server.post(path, params, token=token)
    response.read()
    return str(response.getheader("X-Callguard-Decision"))


def enforced_within_deadline(server: Server, path: str, params: dict[str, str], token: str, expected: str, changed_at: float) -> float:
    """Ask ``server`` until it answers ``expected``; that must happen before the deadline, and every
    answer after the deadline must be ``expected`` too. Returns the seconds it took."""
    first = None
    while True:
        got = decision(server, path, params, token)
        now = time.monotonic()
        if got == expected and first is None:
            first = now - changed_at
        if now - changed_at >= DEADLINE:
            break
    assert first is not None, f"{path} {params['To']}: still {got!r} {DEADLINE} s after the change"
    after = [decision(server, path, params, token) for _ in range(CONFIRMATIONS)]
    assert after == [expected] * CONFIRMATIONS
    return first


def run_two_instances(
    write_policy: Callable[..., Path], tmp_path: Path, servers: list[Server], database_url: str, env: dict[str, str]
) -> dict[str, float]:
    """Instance A takes the changes through its admin API, instance B (two workers) must enforce them."""
    upgraded = subprocess.run(
        [sys.executable, "-m", "callguard.cli", "db", "upgrade", "--database-url", database_url], capture_output=True, text=True, timeout=60
    )
    assert upgraded.returncode == 0 and "upgraded from nothing to revision" in upgraded.stdout, upgraded.stderr
    policy_path = write_policy(POLICY, name="hosts.toml")
    env = {"CALLGUARD_ADMIN_TOKEN": ADMIN_TOKEN, **env}
    a = start_server(policy_path, tmp_path / "a", workers=1, database_url=database_url, env=env)
    servers.append(a)
    b = start_server(policy_path, tmp_path / "b", workers=2, database_url=database_url, env=env)
    servers.append(b)

    cases = {
        "suspension": (("POST", f"/v1/accounts/{TENANT}/suspend", {"reason": "chargeback"}),
                       ("/voice/outbound", dial_params("+442079460001", "+442079460000", TENANT), TENANT_TOKEN),
                       "connect; reasons=ok", "reject; reasons=account.suspended"),
        "prefix block": (("POST", "/v1/prefix-blocks", {"prefix": "+1212555", "reason": "velocity"}),
                         ("/voice/outbound", dial_params("+12125550199"), MAIN_TOKEN),
                         "connect; reasons=ok", "reject; reasons=prefix.blocked"),
        "opt-out": (("POST", "/v1/optouts", {"number": "+13125550123", "account_sid": MAIN}),
                    ("/voice/outbound?campaign=spring", dial_params("+13125550123"), MAIN_TOKEN),
                    "disclose; reasons=disclosure.required", "reject; reasons=dnc.optout"),
        "permission": (("PUT", f"/v1/accounts/{MAIN}/permissions/DE", {"low_risk": True}),
                       ("/voice/outbound", dial_params("+498912345678"), MAIN_TOKEN),
                       "reject; reasons=geo.low_risk", "connect; reasons=ok"),
    }
    took = {}
    for name, ((method, api_path, body), (path, params, token), before, after) in cases.items():
        assert decision(b, path, params, token) == before, name
        status, _ = api(a, method, api_path, body)
        changed_at = time.monotonic()
        assert status in (200, 201), name
        took[name] = enforced_within_deadline(b, path, params, token, after, changed_at)
    status, changes = api(b, "GET", "/v1/changes")
    assert status == 200 and {c["entity"] for c in changes["changes"]} == {"account", "prefix_block", "optout", "permission"}
    assert {c["actor"] for c in changes["changes"]} == {"api:admin"}
    return took


def test_a_change_through_one_instance_is_enforced_by_the_other_within_a_second_through_redis(
    write_policy: Callable[..., Path], tmp_path: Path, servers: list[Server], postgres_url: str, redis_server: str, redis_prefix: str
) -> None:
    # The poll is slowed to 30 s, so only the change notices through Redis can meet the deadline.
    env = {"CALLGUARD_REDIS_URL": redis_server, "CALLGUARD_REDIS_PREFIX": redis_prefix, "CALLGUARD_REFRESH_INTERVAL": "30"}
    took = run_two_instances(write_policy, tmp_path, servers, postgres_url, env)
    print("enforced by the other instance after (s):", {name: round(seconds, 3) for name, seconds in took.items()})


def test_with_redis_down_the_poll_still_brings_changes_within_a_second(
    write_policy: Callable[..., Path], tmp_path: Path, servers: list[Server], postgres_url: str
) -> None:
    env = {"CALLGUARD_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", "CALLGUARD_REFRESH_INTERVAL": "0.5"}  # nothing listens there
    took = run_two_instances(write_policy, tmp_path, servers, postgres_url, env)
    print("enforced by the other instance after (s), by polling:", {name: round(seconds, 3) for name, seconds in took.items()})
