"""The newcomer smoke run: the README's quick start, as a new user runs it, before any test.

A copy of the checkout (tracked and untracked-but-not-ignored files, as a fresh clone would have
them) in a temporary directory; there, the README's first ``sh`` block with ``callguard serve``
(a fresh venv, ``pip install .`` without extras, the tokens, the server) and then its block with
``callguard simulate`` (one call signed as Twilio signs it), run by bash as written. Only the
port differs: 8000 may be taken on a CI machine, so the server binds a free loopback port and
both commands get ``CALLGUARD_PUBLIC_URL`` for it (the setting a deployment behind a proxy uses).
The answer must be a connect of the number dialled.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTALL_AND_START_TIMEOUT = 900.0


def fail(message: str) -> None:
    print(f".ci/smoke: {message}", file=sys.stderr)
    sys.exit(1)


def quick_start_blocks(readme: str) -> tuple[str, str]:
    """The README's ``sh`` block that serves and the one that simulates a call."""
    blocks = re.findall(r"^```sh\n(.*?)^```", readme, flags=re.S | re.M)
    serve = next((b for b in blocks if "callguard serve" in b), None)
    simulate = next((b for b in blocks if "callguard simulate" in b), None)
    if serve is None or simulate is None:
        fail("README.md has no sh block with `callguard serve` and one with `callguard simulate`")
    return serve, simulate  # type: ignore[return-value]


def copy_checkout(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, check=True, capture_output=True
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + INSTALL_AND_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            fail(f"the quick start's serve block exited with {server.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)  # bounded by the deadline: the install runs first
    fail(f"nothing listened on port {port} within {INSTALL_AND_START_TIMEOUT:.0f} s:\n{log.read_text(errors='replace')[-4000:]}")


def main() -> None:
    serve_block, simulate_block = quick_start_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    port = free_port()
    serve_block = serve_block.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "CALLGUARD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        **{k: v for k, v in os.environ.items() if k.startswith(("PIP_", "LANG", "LC_"))},
    }
    with tempfile.TemporaryDirectory(prefix="callguard-smoke-") as work:
        checkout = Path(work) / "callguard"
        checkout.mkdir()
        copy_checkout(checkout)
        log = Path(work) / "serve.log"
        print(f".ci/smoke: the README's quick start in {checkout}, serving on 127.0.0.1:{port}", flush=True)
        with log.open("wb") as output:
            # exec: the server replaces the shell, so stopping it stops gunicorn's master.
            script = "set -e\n" + re.sub(r"^(.*callguard serve)", r"exec \1", serve_block, count=1, flags=re.M)
            server = subprocess.Popen(
                ["bash", "-c", script], cwd=checkout, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            wait_for_port(port, server, log)
            answer = subprocess.run(
                ["bash", "-c", "set -e\n" + simulate_block], cwd=checkout, env=env, capture_output=True, text=True, timeout=120
            )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
        print(answer.stdout, end="")
        if answer.returncode != 0:
            fail(f"the quick start's simulate block exited with {answer.returncode}: {answer.stderr.strip()}")
        lines = answer.stdout.splitlines()
        if "HTTP 200" not in lines or "X-Callguard-Decision: connect; reasons=ok" not in lines:
            fail("callguard did not answer 200 with a connect")
        twiml = ElementTree.fromstring(lines[-1])
        numbers = [number.text for number in twiml.iterfind("Dial/Number")]
        dialled = re.search(r"--to (\S+)", simulate_block)
        if dialled is None or numbers != [dialled.group(1)]:
            fail(f"the TwiML does not dial {dialled.group(1) if dialled else 'the number'}: {lines[-1]}")
    print(".ci/smoke: ok: a plain install served a signed call and connected it")


if __name__ == "__main__":
    main()
