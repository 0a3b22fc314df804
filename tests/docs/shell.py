"""Run the docs' command blocks for real, in a directory laid out like a checkout.

What a block's text goes through before bash runs it, and nothing else:

- it runs in a fresh directory holding a copy of ``examples/``, ``wsgi.py`` and
  ``gunicorn.conf.py``, and ``.venv`` linked to this checkout's virtual environment, whose
  ``bin`` is first on ``PATH`` (the docs' "virtual environment activated");
- the README's install line (``python3 -m venv .venv && .venv/bin/pip install .``) is left out:
  the linked environment stands in for it, and ``.ci/run``'s newcomer smoke run installs from a
  clean checkout for real;
- ports: ``127.0.0.1:8000`` and ``5000`` (in blocks and in the copied examples) become free
  ports, and blocks that are not servers get ``CALLGUARD_PUBLIC_URL`` pointing at the port that
  stands for 8000, which is where ``callguard simulate`` sends by default;
- ``db.internal`` and ``redis.internal`` become the local PostgreSQL (a schema of the test's own)
  and Redis (with a key prefix of the test's own, ``CALLGUARD_REDIS_PREFIX``);
- a block runs under ``set -eo pipefail``, so a command that fails is not hidden by the next.

The environment starts from the test process's, without any ``CALLGUARD_*``, ``TWILIO_*`` or
proxy variable, plus what a test adds (a local stand-in for Twilio's API, for instance).
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..conftest import free_port
from .catalog import RunByCi, Serve, Step
from .markdown import ROOT, Block

INSTALL_LINE = "python3 -m venv .venv && .venv/bin/pip install ."
PLACEHOLDER_DATABASE = "postgresql://callguard@db.internal/callguard"
PLACEHOLDER_REDIS = "redis://redis.internal:6379/0"
COMMAND_TIMEOUT = 90.0
READY_TIMEOUT = 60.0
_DROPPED = re.compile(r"^(CALLGUARD_|TWILIO_)|^(https?|all|no)_proxy$", re.IGNORECASE)


class DocsCommandFailed(AssertionError):
    """A block exited with another status than the step expects, or printed something else."""


@dataclass
class Finished:
    block: Block
    text: str  # as run, after the substitutions
    status: int
    output: str  # stdout, then stderr


@dataclass
class Running:
    block: Block
    process: subprocess.Popen[bytes]
    output: list[str] = field(default_factory=list)
    drain: threading.Thread | None = None

    def stop(self) -> None:
        """SIGTERM the block's process group (every server it started), SIGKILL if it lingers."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
            except ProcessLookupError:
                pass
        if self.drain is not None:
            self.drain.join(timeout=5)


class Workspace:
    """A directory laid out like a checkout, with the substitutions above, for one scenario."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ports = {"8000": free_port(), "5000": free_port()}
        self.database_url: str | None = None
        self.redis_url: str | None = None
        self.env_extra: dict[str, str] = {}
        self.servers: list[Running] = []
        shutil.copytree(ROOT / "examples", directory / "examples", ignore=shutil.ignore_patterns("__pycache__", "*.db"))
        for name in ("wsgi.py", "gunicorn.conf.py"):
            shutil.copy2(ROOT / name, directory / name)
        (directory / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
        for path in (directory / "examples").rglob("*"):
            if path.suffix in (".toml", ".py"):
                text = path.read_text(encoding="utf-8")
                if self._ported(text) != text:
                    path.write_text(self._ported(text), encoding="utf-8")

    def _ported(self, text: str) -> str:
        text = text.replace("127.0.0.1:8000", f"127.0.0.1:{self.ports['8000']}")
        text = text.replace("127.0.0.1:5000", f"127.0.0.1:{self.ports['5000']}")
        return text.replace("--port 5000", f"--port {self.ports['5000']}")

    def prepare(self, block: Block) -> str:
        """The block's text as it runs here."""
        lines = [line for line in block.text.splitlines() if line.strip() != INSTALL_LINE]
        if any("pip install" in line for line in lines):
            # It would install into the linked environment, this checkout's own.
            raise DocsCommandFailed(f"{block}: installs packages; show installs in text, or as the README's install line")
        text = self._ported("\n".join(lines))
        for placeholder, real in ((PLACEHOLDER_DATABASE, self.database_url), (PLACEHOLDER_REDIS, self.redis_url)):
            if placeholder in text:
                if real is None:
                    raise DocsCommandFailed(f"{block}: names {placeholder}, but this test has no such server")
                text = text.replace(placeholder, real)
        return "set -eo pipefail\n" + text + "\n"

    def environment(self, *, server: bool) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not _DROPPED.search(key)}
        env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["NO_PROXY"] = "127.0.0.1,localhost"
        if not server:
            env["CALLGUARD_PUBLIC_URL"] = f"http://127.0.0.1:{self.ports['8000']}"
        env.update(self.env_extra)
        return env

    # -- running ---------------------------------------------------------------------------

    def run(self, step: Step) -> Finished:
        """Run a step's block to completion and hold it to the step's exit status and patterns."""
        block = step.block()
        text = self.prepare(block)
        try:
            finished = subprocess.run(
                ["bash", "-c", text], cwd=self.directory, env=self.environment(server=False),
                capture_output=True, timeout=COMMAND_TIMEOUT, start_new_session=True,
            )
        except subprocess.TimeoutExpired as exc:
            raise DocsCommandFailed(f"{block}: still running after {COMMAND_TIMEOUT:.0f} s\n{self._servers_said()}") from exc
        output = finished.stdout.decode(errors="replace") + finished.stderr.decode(errors="replace")
        result = Finished(block, text, finished.returncode, output)
        problems = []
        if result.status != step.exit:
            problems.append(f"exit status {result.status}, expected {step.exit}")
        problems += [f"no match for {pattern!r}" for pattern in step.expect if not re.search(pattern, result.output, re.MULTILINE)]
        if problems:
            raise DocsCommandFailed(
                f"{block}: {'; '.join(problems)}\n--- ran:\n{text}--- printed:\n{result.output}{self._servers_said()}"
            )
        return result

    def start(self, step: Serve) -> Running:
        """Start a server block in its own process group; return once its output shows every marker."""
        block = step.block()
        process = subprocess.Popen(
            ["bash", "-c", self.prepare(block)], cwd=self.directory, env=self.environment(server=True),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        running = Running(block, process)
        self.servers.append(running)
        # One thread reads the output as it comes (a server that keeps talking never blocks on a
        # full pipe) and hands each line to the wait below.
        lines: queue.Queue[str | None] = queue.Queue()
        running.drain = threading.Thread(target=self._drain, args=(running, lines), daemon=True)
        running.drain.start()
        waiting = list(step.ready)
        deadline = time.monotonic() + READY_TIMEOUT
        while waiting:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                raise DocsCommandFailed(f"{block}: not ready (waiting for {waiting})\n{''.join(running.output)}") from None
            if line is None:
                raise DocsCommandFailed(f"{block}: exited with status {process.wait()} before it was ready\n{''.join(running.output)}")
            waiting = [marker for marker in waiting if marker not in line]
        return running

    @staticmethod
    def _drain(running: Running, lines: queue.Queue[str | None]) -> None:
        assert running.process.stdout is not None
        for raw in iter(running.process.stdout.readline, b""):
            line = raw.decode(errors="replace")
            running.output.append(line)
            lines.put(line)
        lines.put(None)

    def play(self, steps: tuple[Step, ...]) -> list[Finished]:
        """Run a scenario's steps in order: servers started and left running, commands run."""
        results = []
        for step in steps:
            if isinstance(step, Serve):
                self.start(step)
            elif isinstance(step, RunByCi):
                raise TypeError(f"{step.doc}: {step.key!r} is .ci/run's to run, not a scenario's")
            else:
                results.append(self.run(step))
        return results

    def close(self) -> None:
        for server in reversed(self.servers):
            server.stop()

    def _servers_said(self) -> str:
        return "".join(f"--- {server.block} said:\n{''.join(server.output[-40:])}" for server in self.servers)
