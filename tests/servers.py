"""Real gunicorn servers on loopback, for the tests that need processes, not a test client."""

from __future__ import annotations

import http.client
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from .conftest import MAIN_TOKEN, TENANT_TOKEN, free_port


def wait_for_lines(process: subprocess.Popen[bytes], needle: bytes, count: int, timeout: float) -> list[bytes]:
    """Read the server's stderr until ``needle`` has appeared ``count`` times (no sleeping).

    The pipe must be unbuffered (``bufsize=0``): a line a buffered reader has read ahead is
    invisible to ``select``, which would then wait for it until the timeout."""
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


def signed_request(port: int, path: str, params: dict[str, str], token: str = MAIN_TOKEN) -> tuple[bytes, bytes]:
    """(headers, body) of a POST signed exactly as Twilio signs it."""
    signature = RequestValidator(token).compute_signature(f"http://127.0.0.1:{port}{path}", params)
    body = urlencode(params).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nX-Twilio-Signature: {signature}\r\nConnection: close\r\n\r\n"
    ).encode()
    return head, body


@dataclass
class Server:
    port: int
    database_url: str
    process: subprocess.Popen[bytes]
    workers: int
    log: list[bytes] = field(default_factory=list)

    def post(self, path: str, params: dict[str, str], token: str = MAIN_TOKEN, timeout: float = 10) -> http.client.HTTPResponse:
        signature = RequestValidator(token).compute_signature(f"http://127.0.0.1:{self.port}{path}", params)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        connection.request(
            "POST",
            path,
            body=urlencode(params),
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        )
        return connection.getresponse()

    def kill(self) -> None:
        """SIGKILL the master and every worker at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def start_server(
    policy_path: Path,
    workdir: Path,
    *,
    workers: int,
    database_url: str | None = None,
    env: dict[str, str] | None = None,
    args: Sequence[str] = (),
    stdout: Path | None = None,
) -> Server:
    """A ``callguard serve`` on loopback, ready; its stderr is a pipe (``Server.process.stderr``), its
    stdout (gunicorn's access log, with ``--access-log``) goes to the file ``stdout`` or nowhere."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    database_url = database_url or f"sqlite:///{workdir / 'served.db'}"
    env = {
        **os.environ,
        "CALLGUARD_DATABASE_URL": database_url,
        "CALLGUARD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CALLGUARD_COUNTERS_PATH": str(workdir / "counters.db"),
        "TWILIO_AUTH_TOKEN": MAIN_TOKEN,
        "TWILIO_AUTH_TOKEN_TENANT": TENANT_TOKEN,
        **(env or {}),
    }
    output = None if stdout is None else stdout.open("wb")  # the server's own copy stays open; this one is closed below
    try:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "callguard.cli", "serve",
                "--policy", str(policy_path), "--bind", f"127.0.0.1:{port}", "--workers", str(workers), *args,
            ],
            env=env,
            bufsize=0,  # unbuffered: wait_for_lines selects on the pipe, and a buffered reader would hold lines select cannot see
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL if output is None else output,
            cwd=workdir,
            start_new_session=True,  # its own process group, so kill() reaches every worker
        )
    finally:
        if output is not None:
            output.close()
    try:
        log = wait_for_lines(process, b"callguard ready", workers, timeout=60)
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        raise
    return Server(port, database_url, process, workers, log)
