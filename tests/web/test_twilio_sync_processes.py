"""The scheduled Twilio sync under real gunicorn workers: one of them runs it, all of them use it."""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path

import pytest

from ..conftest import MAIN, dial_params
from ..servers import Server, start_server, wait_for_lines
from ..sync.twilio_double import TwilioDouble

pytestmark = pytest.mark.server


def healthz(server: Server) -> dict[str, object]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/healthz")
    return json.loads(connection.getresponse().read())  # type: ignore[no-any-return]


def test_one_worker_syncs_on_schedule_and_every_worker_decides_on_it(
    sync_policy_path: Path, tmp_path: Path, double: TwilioDouble, servers: list[Server]
) -> None:
    server = start_server(sync_policy_path, tmp_path, workers=3, env={"CALLGUARD_TWILIO_BASE_URL": double.url})
    servers.append(server)
    if not any(b"twilio sync finished: ok" in line for line in server.log):
        wait_for_lines(server.process, b"twilio sync finished: ok", 1, timeout=60)

    # Every worker picks the stored picture up through its policy refresher (within a second).
    synced_pids: set[int] = set()
    deadline = time.monotonic() + 20
    while len(synced_pids) < server.workers and time.monotonic() < deadline:  # bounded
        body = healthz(server)
        main = next(a for a in body["twilio_sync"]["accounts"] if a["sid"] == MAIN)  # type: ignore[index, union-attr]
        if main["synced_at"] is not None:
            synced_pids.add(body["worker"]["pid"])  # type: ignore[arg-type]
    assert len(synced_pids) == server.workers, synced_pids

    # Exactly one of the three workers ran the sync: the lease kept the others out.
    assert len(double.requests(r"/Accounts\.json$")) == 1
    for i in range(6):
        response = server.post("/voice/outbound", dial_params(f"+1415555{i:04d}", from_="+14155550104"))
        response.read()
        assert response.getheader("X-Callguard-Decision") == "connect; reasons=ok"
