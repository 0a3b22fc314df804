"""What a served callguard writes to its logs: numbers masked, gunicorn's lines too, JSON when asked
(callguard.cli.gunicorn_logging, callguard.runtime.log_output, under ``callguard serve``)."""

from __future__ import annotations

import http.client
import json
import os
import signal
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from ..conftest import BASE_POLICY, MAIN_TOKEN, dial_params
from ..servers import Server, start_server, wait_for_lines

pytestmark = pytest.mark.server

CAMPAIGN = """
[campaigns.spring]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "This is Acme Solar calling about our spring offer."
"""
CALLEE = "+12125550123"


def _get(server: Server, path_with_query: str, *, signed: bool) -> int:
    """A webhook Twilio calls with GET: every parameter in the query string."""
    headers = {}
    if signed:
        url = f"http://127.0.0.1:{server.port}{path_with_query}"
        headers["X-Twilio-Signature"] = RequestValidator(MAIN_TOKEN).compute_signature(url, {})
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", path_with_query, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status


def _stop(server: Server) -> list[bytes]:
    """SIGTERM, and every line the server wrote to stderr after the ones read already."""
    os.killpg(server.process.pid, signal.SIGTERM)
    server.process.wait(timeout=30)
    assert server.process.stderr is not None
    return server.process.stderr.read().splitlines(keepends=True)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_served_callguards_logs_carry_numbers_masked_in_the_format_asked(
    write_policy: Callable[..., Path], tmp_path: Path, servers: list[Server], log_format: str
) -> None:
    access = tmp_path / "access.log"
    server = start_server(
        write_policy(BASE_POLICY + CAMPAIGN, name="tm.toml"), tmp_path / "served", workers=1,
        env={"CALLGUARD_LOG_FORMAT": log_format}, args=["--access-log"], stdout=access,
    )
    servers.append(server)
    optout = server.post("/voice/optout?campaign=spring", dial_params(CALLEE, Direction="outbound-dial", Digits="9"))
    assert optout.read() and optout.getheader("X-Callguard-Decision") == "reject; reasons=optout.recorded"
    query = "/voice/outbound?" + urlencode(dial_params(CALLEE))
    assert _get(server, query, signed=True) == 200
    assert _get(server, query, signed=False) == 403
    lines = server.log + wait_for_lines(server.process, b"rejected webhook", 1, timeout=30) + _stop(server)
    stderr = b"".join(lines).decode()
    stdout = access.read_text(encoding="utf-8")

    assert "opt-out recorded: +1212•••0123" in stderr  # a webhook's number in callguard's line
    assert "To=%2B1212•••0123" in stderr  # a refused request's URL in callguard's line
    assert stdout.count("To=%2B1212•••0123") == 2  # the query strings in gunicorn's access lines
    for number in (CALLEE, CALLEE[1:], "%2B" + CALLEE[1:]):
        assert number not in stderr and number not in stdout
    if log_format == "json":
        records = [json.loads(line) for line in lines]
        access_records = [json.loads(line) for line in stdout.splitlines()]
        assert {"callguard", "callguard.web", "gunicorn.error"} <= {record["logger"] for record in records}
        assert any(record["message"].startswith("Booting worker") for record in records)  # gunicorn's own lines, as JSON
        assert [record["logger"] for record in access_records] == ["gunicorn.access"] * 3
        assert all({"time", "level", "logger", "message", "process"} <= set(record) for record in records + access_records)
    else:
        assert not stderr.lstrip().startswith("{")
