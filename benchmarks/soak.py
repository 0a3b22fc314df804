"""Soak: two instances on PostgreSQL + Redis at about 70 % of saturation while both restart (issue 19).

    python benchmarks/soak.py [--duration 600] [--rate-fraction 0.7] [--workers 2]
        [--connections 8] [--deadline 3] [--optout-rate 2] [--numbers 3000] [--keep-logs DIR]

Starts its own PostgreSQL (initdb + pg_ctl, as the ``postgres`` user when run as root) and Redis
on free loopback ports in a temporary directory, never the system's, and two ``callguard serve``
instances of ``--workers`` sync workers on them. Every call is a telemarketing call with
``[traffic]`` limits: an opt-out lookup in PostgreSQL, a consent lookup for the numbers on a
(generated) national registry, and one Redis admission, each decided ``disclose``.

1. A short unpaced wrk run finds saturation (requests/s of both instances together).
2. wrk then offers ``--rate-fraction`` of it for ``--duration`` seconds, half to each instance,
   each request signed as Twilio signs it. Redis is restarted at a third of the run, PostgreSQL
   (``pg_ctl restart -m fast``) at two thirds, while a side loop records opt-outs through the
   admin API of either instance at ``--optout-rate`` a second.
3. Prints non-200 answers (including requests never answered), answers over the deadline, p50
   and p99 latency, acknowledged opt-outs missing from the database afterwards, and each
   worker's RSS growth from its first reading after ``--warmup`` to the last: targets 0, 0, —,
   —, 0, < 10 MB; and how many calls the fail mode decided, and when.

wrk 4 paces nothing itself, so its script (benchmarks/soak.lua) does: each connection (one per
wrk thread, so the script can time each request it sends) keeps a schedule of sends, waits with
``delay()`` until the next, and measures latency with the monotonic clock (LuaJIT's FFI), from
the moment the request is written to its answer, however late: wrk's own ``--timeout`` (the
deadline) only leaves slow answers out of wrk's statistics. A connection more than a second
behind its schedule drops the sends it missed and counts them, so a stalled server is not hit
by a burst after. Everything the run started is stopped and removed at the end, on an error,
on Ctrl-C and on SIGTERM.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import phonenumbers  # noqa: E402
from decide import ACCOUNT, CALLER_ID, COUNTRIES, ROOT, TOKEN, outbound_params, unique_numbers  # noqa: E402
from phonenumbers import region_code_for_number  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SYSTEM_PORTS = {5432, 6379}  # the machine's own PostgreSQL and Redis: never touched
CAMPAIGN = "soak"
CALL_PATH = f"/voice/outbound?campaign={CAMPAIGN}"
DECISION_HEADER = "X-Callguard-Decision"
BEHIND_LIMIT_S = 1.0  # a connection this far behind its schedule drops the sends it missed

POLICY = f"""
[calling_hours]          # every hour of every day, so no call is refused for the time it is made
keep_shipped = false
default = {{ all = "00:00-24:00" }}

[campaigns.{CAMPAIGN}]
purpose = "telemarketing"
organization = "Soak Test"
disclosure = "This is the soak test calling."
registries = ["us_ftc"]  # required: a run without the registry refuses every call, and says so

[campaigns.{CAMPAIGN}.traffic]  # limits no call reaches: every call is counted in Redis, none refused
cps = 1000000
max_calls_per_callee_per_day = 100000
velocity = [{{ country = "US", max_calls = 1000000000, window = "10m", block_for = "1h" }}]

[accounts.{ACCOUNT}]
name = "Soak"
caller_ids = ["{CALLER_ID}"]
default_region = "US"
[accounts.{ACCOUNT}.permissions]
""" + "\n".join(f"{c} = {{ low_risk = true, high_risk_special = true }}" for c in COUNTRIES)


# -- the small pure parts ----------------------------------------------------------------------


def paced_rate(saturation: float, fraction: float) -> float:
    """Requests/s to offer: ``fraction`` of the saturation rate."""
    return saturation * fraction


def send_interval(rate: float, connections: int) -> float:
    """Seconds between one connection's sends so that ``connections`` of them offer ``rate`` a second."""
    return connections / rate


@dataclass
class WrkSummary:
    requests: int
    rate: float
    socket_errors: dict[str, int]
    non_2xx_3xx: int


def parse_wrk_summary(text: str) -> WrkSummary:
    """The figures of wrk's own summary (``Requests/sec``, requests, socket errors, non-2xx/3xx)."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    requests = re.search(r"(\d+) requests in", text)
    if not rate or not requests:
        raise ValueError(f"not a wrk summary:\n{text}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    counts = [int(n) for n in errors.groups()] if errors else [0, 0, 0, 0]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return WrkSummary(
        requests=int(requests.group(1)),
        rate=float(rate.group(1)),
        socket_errors=dict(zip(("connect", "read", "write", "timeout"), counts, strict=True)),
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


@dataclass
class Event:
    """A request that went wrong or met the fail mode: when it was sent (monotonic seconds), how, how long it took."""

    sent: float
    kind: str  # "status NNN", "slow", "no answer", "fail mode" (a fault.* decision)
    seconds: float


@dataclass
class LoadResults:
    """What the Lua script counted, summed over wrk threads (and instances, with ``+``)."""

    statuses: dict[int, int] = field(default_factory=dict)
    decisions: dict[str, int] = field(default_factory=dict)
    latency: dict[int, int] = field(default_factory=dict)  # 0.1 ms bucket -> answers
    events: list[Event] = field(default_factory=list)
    slow: int = 0  # answers after the deadline
    unanswered: int = 0  # connection closed with no answer, or none by the end and past the deadline
    skipped: int = 0  # sends dropped while a connection was behind its schedule

    @property
    def answers(self) -> int:
        return sum(self.statuses.values())

    @property
    def non_200(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200) + self.unanswered

    def __add__(self, other: LoadResults) -> LoadResults:
        def merged(a: dict[Any, int], b: dict[Any, int]) -> dict[Any, int]:
            return {k: a.get(k, 0) + b.get(k, 0) for k in a.keys() | b.keys()}

        return LoadResults(
            merged(self.statuses, other.statuses),
            merged(self.decisions, other.decisions),
            merged(self.latency, other.latency),
            sorted(self.events + other.events, key=lambda e: e.sent),
            self.slow + other.slow,
            self.unanswered + other.unanswered,
            self.skipped + other.skipped,
        )


def parse_load_results(text: str, deadline: float) -> LoadResults:
    """Read the file the Lua script's ``done()`` writes: one ``kind value…`` line per figure."""
    out = LoadResults()
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "status":
            status, count = rest.split()
            out.statuses[int(status)] = out.statuses.get(int(status), 0) + int(count)
        elif kind == "decision":
            count, _, decision = rest.partition(" ")
            out.decisions[decision] = out.decisions.get(decision, 0) + int(count)
        elif kind == "latency":
            bucket, count = rest.split()
            out.latency[int(bucket)] = out.latency.get(int(bucket), 0) + int(count)
        elif kind == "event":
            sent, seconds, what = rest.split(" ", 2)
            out.events.append(Event(float(sent), what, float(seconds)))
        elif kind == "pending":  # sent, not answered when wrk stopped: a miss only once past the deadline
            sent, age = rest.split()
            if float(age) > deadline:
                out.unanswered += 1
                out.events.append(Event(float(sent), "no answer", float(age)))
        elif kind in ("slow", "unanswered", "skipped"):
            setattr(out, kind, getattr(out, kind) + int(rest))
    return out


def percentile(histogram: dict[int, int], fraction: float, bucket_seconds: float = 1e-4) -> float:
    """The ``fraction`` quantile of a histogram of ``bucket_seconds`` buckets, as the bucket's upper edge."""
    total = sum(histogram.values())
    if not total:
        return math.nan
    rank, seen = math.ceil(fraction * total), 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return (bucket + 1) * bucket_seconds
    raise AssertionError("unreachable")


def lost_optouts(acknowledged: set[str], stored: set[str]) -> set[str]:
    """Opt-outs the API acknowledged (2xx) that the database does not hold."""
    return acknowledged - stored


# -- the load: a wrk script that signs, paces, times and counts ----------------------------------


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII text is a valid Lua string literal


def write_load_script(
    path: Path, *, port: int, numbers: list[str], deadline: float, interval: float | None, threads: int, results: Path
) -> None:
    """soak.lua for one instance, after a line setting its SOAK table; ``interval`` paces each connection, ``None`` sends flat out."""
    validator = RequestValidator(TOKEN)
    url = f"http://127.0.0.1:{port}{CALL_PATH}"  # what CALLGUARD_PUBLIC_URL + path makes: the signed URL
    params = outbound_params(numbers)
    settings = {
        "path": lua_string(CALL_PATH),
        "deadline": repr(deadline),
        "interval": repr(interval or 0.0),
        "threads_total": str(threads),
        "results": lua_string(str(results)),
        "behind_limit": repr(BEHIND_LIMIT_S),
        "bodies": "{" + ",".join(lua_string(urlencode(p)) for p in params) + "}",
        "sigs": "{" + ",".join(lua_string(validator.compute_signature(url, p)) for p in params) + "}",
    }
    prelude = "SOAK = {" + ", ".join(f"{key} = {value}" for key, value in settings.items()) + "}\n"
    path.write_text(prelude + (HERE / "soak.lua").read_text())


def start_wrk(port: int, script: Path, *, connections: int, seconds: int, deadline: float) -> subprocess.Popen[str]:
    timeout = max(1, math.ceil(deadline))  # wrk takes whole seconds
    return subprocess.Popen(
        [
            "wrk", f"-t{connections}", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout}s",
            "-s", str(script), f"http://127.0.0.1:{port}{CALL_PATH}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


# -- the services, all private to the run ------------------------------------------------------


def clean_environment() -> dict[str, str]:
    """This process's environment without callguard's settings: none of the caller's may point a server elsewhere."""
    return {key: value for key, value in os.environ.items() if not key.startswith("CALLGUARD_")} | {"PYTHONPATH": str(ROOT)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    if port in SYSTEM_PORTS:  # cannot be free while the system's servers run, but never risk it
        raise RuntimeError(f"got port {port}, the system server's")
    return port


def wait_until(ready: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")


class Postgres:
    """A PostgreSQL cluster in ``directory``, run as ``postgres`` when this script runs as root."""

    def __init__(self, directory: Path) -> None:
        self.directory, self.data, self.port = directory, directory / "data", free_port()
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # initdb refuses root

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, *args: str, check: bool = True) -> None:
        done = subprocess.run([*self.as_owner, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        if check and done.returncode:
            raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr.decode(errors='replace')}")

    def start(self) -> None:
        self.directory.mkdir(mode=0o700)
        if self.as_owner:
            shutil.chown(self.directory, "postgres", "postgres")
        self._pg(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.directory}'\n")
        self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "log"), "-w", "start")

    def restart(self) -> None:
        self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "log"), "-w", "-m", "fast", "restart")

    def stop(self) -> None:
        for mode in ("fast", "immediate"):  # immediate only if a fast stop failed
            if (self.data / "postmaster.pid").exists():
                self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "30", "-m", mode, "stop", check=False)


class Redis:
    """``redis-server`` on a free port, no persistence: a restart starts it empty, as a lost cache would."""

    def __init__(self, directory: Path) -> None:
        self.directory, self.port = directory, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(exist_ok=True)
        self.process = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(self.directory), "--logfile", str(self.directory / "log"),
            ],
            start_new_session=True,
        )
        wait_until(self._answers, f"redis-server on port {self.port}")

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"redis-server exited ({self.process.returncode}); see {self.directory / 'log'}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def restart(self) -> None:
        self.stop()
        self.start()


class Instance:
    """One ``callguard serve`` (a gunicorn master and its sync workers), its log in a file."""

    def __init__(self, name: str, directory: Path, policy: Path, workers: int, env: dict[str, str]) -> None:
        self.name, self.directory, self.port = name, directory, free_port()
        self.policy, self.workers, self.env = policy, workers, env
        self.log = directory / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.directory.mkdir()
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "callguard.cli", "serve", "--policy", str(self.policy),
                    "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
                ],
                env={**clean_environment(), **self.env, "CALLGUARD_PUBLIC_URL": self.url},
                cwd=self.directory,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        wait_until(self._ready, f"instance {self.name}")

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"instance {self.name} exited:\n{self.log.read_text(errors='replace')}")
        return b"callguard ready" in self.log.read_bytes()

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        try:
            return [int(p) for p in Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()]
        except FileNotFoundError:
            return []

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # graceful: each worker writes its audit backlog
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# -- HTTP from this process: setup, the opt-out loop, health ----------------------------------


def http_call(url: str, method: str, path: str, *, token: str | None = None, body: object = None, form: dict[str, str] | None = None,
              headers: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    sent_headers = dict(headers or {})
    payload: bytes | None = None
    if token:
        sent_headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        payload, sent_headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    if form is not None:
        payload, sent_headers["Content-Type"] = urlencode(form).encode(), "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=payload, headers=sent_headers)
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        connection.close()


def signed_call(instance: Instance, number: str) -> str:
    """The decision header of one webhook call to ``number``, signed as Twilio signs it."""
    params = {"AccountSid": ACCOUNT, "CallSid": "CA" + "f" * 32, "Direction": "inbound", "From": CALLER_ID, "To": number}
    signature = RequestValidator(TOKEN).compute_signature(instance.url + CALL_PATH, params)
    status, headers, body = http_call(instance.url, "POST", CALL_PATH, form=params, headers={"X-Twilio-Signature": signature})
    if status != 200:
        raise RuntimeError(f"{instance.name}: {status} to a signed call: {body[:300]!r}")
    return headers.get(DECISION_HEADER, "(none)")


@dataclass
class OptoutLoop:
    """Records opt-outs through the admin API of each instance in turn, at ``rate`` a second."""

    instances: list[Instance]
    numbers: list[str]
    token: str
    rate: float
    stop: threading.Event = field(default_factory=threading.Event)
    acknowledged: set[str] = field(default_factory=set)
    refused: dict[str, int] = field(default_factory=dict)  # answer (or error) -> count
    posted: int = 0

    def run(self) -> None:
        start = time.monotonic()
        for n, number in enumerate(self.numbers):
            if self.stop.wait(max(0.0, start + n / self.rate - time.monotonic())):
                return
            self.posted += 1
            try:
                status, _, _ = http_call(
                    self.instances[n % len(self.instances)].url, "POST", "/v1/optouts", token=self.token,
                    body={"number": number, "account_sid": ACCOUNT, "note": "soak"},
                )
            except (OSError, http.client.HTTPException) as exc:  # no answer: not acknowledged
                self.refused[type(exc).__name__] = self.refused.get(type(exc).__name__, 0) + 1
                continue
            if 200 <= status < 300:
                self.acknowledged.add(number)
            else:
                self.refused[str(status)] = self.refused.get(str(status), 0) + 1


def vm_rss_kb(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else None


@dataclass
class RssSampler:
    """Each worker's VmRSS every few seconds: its first reading at or after ``baseline_at``, and its last."""

    instances: list[Instance]
    baseline_at: float  # monotonic time
    stop: threading.Event = field(default_factory=threading.Event)
    first: dict[int, int] = field(default_factory=dict)
    last: dict[int, int] = field(default_factory=dict)
    owner: dict[int, str] = field(default_factory=dict)
    baseline: set[int] = field(default_factory=set)  # the workers of the first reading
    alive: set[int] = field(default_factory=set)  # the workers of the latest reading

    def sample(self) -> None:
        if time.monotonic() < self.baseline_at:
            return
        readings = {
            pid: (instance.name, rss)
            for instance in self.instances
            for pid in instance.worker_pids()
            if (rss := vm_rss_kb(pid)) is not None
        }
        if not self.first:
            self.baseline = set(readings)
        self.alive = set(readings)
        for pid, (name, rss) in readings.items():
            self.owner[pid] = name
            self.first.setdefault(pid, rss)
            self.last[pid] = rss

    def run(self) -> None:
        while not self.stop.wait(5):
            self.sample()


@contextmanager
def background(run: Callable[[], None], stop: threading.Event) -> Iterator[None]:
    """``run`` in a thread while the block runs; ``stop`` set and the thread joined on the way out."""
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


# -- the run ------------------------------------------------------------------------------------


def run_load(instances: list[Instance], workdir: Path, label: str, numbers: dict[str, list[str]], *, seconds: int,
             connections: int, deadline: float, interval: float | None,
             during: Callable[[], None] | None = None) -> tuple[LoadResults, list[WrkSummary]]:
    """One wrk per instance at once; ``during()`` runs in this thread while they do."""
    processes, result_files = [], []
    for instance in instances:
        results = workdir / f"{label}-{instance.name}.results"
        script = workdir / f"{label}-{instance.name}.lua"
        write_load_script(script, port=instance.port, numbers=numbers[instance.name], deadline=deadline, interval=interval,
                          threads=connections, results=results)
        result_files.append(results)
        processes.append(start_wrk(instance.port, script, connections=connections, seconds=seconds, deadline=deadline))
    try:
        if during is not None:
            during()
        outputs = [p.communicate(timeout=seconds + 120)[0] for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, out in zip(processes, outputs, strict=True):
        if p.returncode:
            raise RuntimeError(f"wrk failed ({p.returncode}):\n{out}")
    summaries = [parse_wrk_summary(out) for out in outputs]
    total = LoadResults()
    for results in result_files:
        total = total + parse_load_results(results.read_text(), deadline)
    return total, summaries


def set_up_records(instance: Instance, token: str, listed: list[str]) -> None:
    """Consent for every number on the registry, so that their calls are decided, not refused."""
    obtained = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for number in listed:
        status, _, body = http_call(instance.url, "POST", "/v1/consents", token=token,
                                    body={"number": number, "account_sid": ACCOUNT, "obtained_at": obtained, "evidence": "soak"})
        if status != 201:
            raise RuntimeError(f"consent for {number}: {status} {body[:300]!r}")


def stored_optouts(database_url: str) -> set[str]:
    import psycopg

    with psycopg.connect(database_url, connect_timeout=10) as conn:
        return {row[0] for row in conn.execute("SELECT number FROM callguard_optouts WHERE account_sid = %s", (ACCOUNT,))}


LOG_PATTERNS = {"ERROR": r"\bERROR\b", "WARNING": r"\bWARNING\b", "Traceback": r"^Traceback", "WORKER TIMEOUT": r"WORKER TIMEOUT"}


def log_counts(text: str) -> dict[str, int]:
    """Lines of a server's log that name each of LOG_PATTERNS."""
    return {what: len(re.findall(pattern, text, re.MULTILINE)) for what, pattern in LOG_PATTERNS.items()}


def describe_events(events: list[Event], faults: list[tuple[str, float, float]], start: float) -> list[str]:
    """Events grouped by the restart they came during or soon after (10 s), else 'elsewhere'."""
    groups: dict[str, list[Event]] = {}
    for event in events:
        name = next((f"{what} restart" for what, began, ended in faults if began - 1 <= event.sent <= ended + 10), "elsewhere")
        groups.setdefault(name, []).append(event)
    lines = []
    for name, group in groups.items():
        kinds: dict[str, int] = {}
        for event in group:
            kinds[event.kind] = kinds.get(event.kind, 0) + 1
        first, last = group[0].sent - start, group[-1].sent - start
        worst = max(e.seconds for e in group)
        lines.append(f"  {name}: {', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}; sent {first:.1f}-{last:.1f} s into the run, "
                     f"longest {worst:.2f} s")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=600, help="seconds of paced load (default 600)")
    parser.add_argument("--rate-fraction", type=float, default=0.7, help="fraction of saturation to offer (default 0.7)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers per instance (default 2)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (one thread each) per instance (default 8)")
    parser.add_argument("--deadline", type=float, default=3.0, help="the answer deadline, seconds; CALLGUARD_ANSWER_DEADLINE (default 3)")
    parser.add_argument("--optout-rate", type=float, default=2.0, help="opt-outs posted a second (default 2)")
    parser.add_argument("--numbers", type=int, default=3000, help="distinct numbers dialled (default 3000)")
    parser.add_argument("--saturation-seconds", type=int, default=15, help="length of the saturation run (default 15)")
    parser.add_argument("--warmup", type=float, default=60, help="seconds into the soak of the first RSS reading (default 60)")
    parser.add_argument("--keep-logs", type=Path, help="copy the servers', PostgreSQL's and Redis's logs here")
    args = parser.parse_args()
    for tool in ("wrk", "redis-server", str(PG_BIN / "initdb")):
        if not shutil.which(tool):
            raise SystemExit(f"needs {tool}")
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored (a shell's background job)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # through the cleanup below, as Ctrl-C is
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))

    tmp = Path(tempfile.mkdtemp(prefix="callguard-soak-"))
    tmp.chmod(0o755)  # the postgres user must reach its directory inside
    try:
        with ExitStack() as stack:
            soak(args, tmp, stack)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
        if args.keep_logs:
            args.keep_logs.mkdir(parents=True, exist_ok=True)
            for log in [*tmp.glob("*/server.log"), tmp / "postgres" / "log", tmp / "redis" / "log"]:
                if log.exists():
                    shutil.copy(log, args.keep_logs / f"{log.parent.name}.log")
        shutil.rmtree(tmp, ignore_errors=True)


def soak(args: argparse.Namespace, tmp: Path, stack: ExitStack) -> None:
    postgres, redis = Postgres(tmp / "postgres"), Redis(tmp / "redis")
    stack.callback(postgres.stop)
    postgres.start()
    stack.callback(redis.stop)
    redis.start()
    print(f"PostgreSQL on port {postgres.port}, Redis on port {redis.port} (private to this run, in {tmp}); "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    subprocess.run([sys.executable, "-m", "callguard.cli", "db", "upgrade", "--database-url", postgres.url], check=True,
                   env=clean_environment(), stdout=subprocess.DEVNULL)

    # The dialled numbers, and others for opt-outs (never dialled, so no call is refused for them).
    optout_count = math.ceil(args.optout_rate * args.duration) + 10
    everything = unique_numbers(args.numbers + optout_count, seed=19)
    numbers, optout_numbers = everything[: args.numbers], everything[args.numbers :]
    listed = [n for n in numbers if region_code_for_number(phonenumbers.parse(n)) == "US"][::2]
    registry_input = tmp / "us_ftc.txt"
    registry_input.write_text("".join(f"{n[2:]}\n" for n in listed))
    registry_dir = tmp / "registries"
    subprocess.run([sys.executable, "-m", "callguard.cli", "registry", "build", str(registry_input), "--name", "us_ftc", "--format", "ftc",
                    "--dir", str(registry_dir)], check=True, env=clean_environment(), stdout=subprocess.DEVNULL)

    policy = tmp / "policy.toml"
    policy.write_text(POLICY)
    admin_token = secrets.token_hex(16)
    env = {
        "TWILIO_AUTH_TOKEN": TOKEN,
        "CALLGUARD_DATABASE_URL": postgres.url,
        "CALLGUARD_REDIS_URL": redis.url,
        "CALLGUARD_REGISTRY_DIR": str(registry_dir),
        "CALLGUARD_ADMIN_TOKEN": admin_token,
        "CALLGUARD_ANSWER_DEADLINE": str(args.deadline),  # read by the callguard that has the per-answer deadline
    }
    instances = [Instance(name, tmp / name, policy, args.workers, env) for name in ("a", "b")]
    for instance in instances:
        stack.callback(instance.stop)
        instance.start()
    set_up_records(instances[0], admin_token, listed)
    for number in (listed[0], next(n for n in numbers if n not in set(listed))):
        for instance in instances:
            decision = signed_call(instance, number)
            if not decision.startswith("disclose"):
                raise RuntimeError(f"a call to {number} through {instance.name} was not decided disclose: {decision}")
    print(f"{len(instances)} instances of {args.workers} sync workers; {len(numbers)} numbers dialled, "
          f"{len(listed)} of them on the registry with consent", flush=True)

    # Each instance cycles through every number, each wrk thread starting at its own place.
    by_instance = {instance.name: numbers for instance in instances}
    work = tmp / "load"
    work.mkdir()
    run_load(instances, work, "warm", by_instance, seconds=5, connections=args.connections, deadline=args.deadline, interval=None)
    saturation, summaries = run_load(instances, work, "saturation", by_instance, seconds=args.saturation_seconds,
                                     connections=args.connections, deadline=args.deadline, interval=None)
    saturated = sum(s.rate for s in summaries)
    rate = paced_rate(saturated, args.rate_fraction)
    interval = send_interval(rate / len(instances), args.connections)
    print(f"saturation: {saturated:.0f} requests/s ({', '.join(f'{s.rate:.0f}' for s in summaries)}; "
          f"{saturation.non_200} non-200, {saturation.slow} over the deadline); offering {rate:.0f} requests/s "
          f"({args.rate_fraction:.0%}) for {args.duration} s", flush=True)

    faults: list[tuple[str, float, float]] = []
    start = time.monotonic()
    rss = RssSampler(instances, baseline_at=start + min(args.warmup, args.duration / 6))
    optouts = OptoutLoop(instances, optout_numbers, admin_token, args.optout_rate)

    def restarts() -> None:
        for at, what, service in ((1 / 3, "Redis", redis), (2 / 3, "PostgreSQL", postgres)):
            time.sleep(max(0.0, start + at * args.duration - time.monotonic()))
            began = time.monotonic()
            service.restart()
            faults.append((what, began, time.monotonic()))
            print(f"  {began - start:5.1f} s: restarted {what} in {time.monotonic() - began:.2f} s", flush=True)

    with background(rss.run, rss.stop), background(optouts.run, optouts.stop):
        soaked, summaries = run_load(instances, work, "soak", by_instance, seconds=args.duration, connections=args.connections,
                                     deadline=args.deadline, interval=interval, during=restarts)
        optouts.stop.set()
        rss.sample()  # the last reading, before anything stops
    time.sleep(1)  # within the audit flush interval and the opt-out loop's last answer
    stored = stored_optouts(postgres.url)
    lost = lost_optouts(optouts.acknowledged, stored)
    health = {}
    for instance in instances:
        try:
            health[instance.name] = json.loads(http_call(instance.url, "GET", "/healthz")[2]).get("status")
        except (OSError, ValueError) as exc:
            health[instance.name] = f"no answer ({exc})"
    report(args, soaked, summaries, rate, start, faults, optouts, lost, rss, health, instances)


def report(args: argparse.Namespace, soaked: LoadResults, summaries: list[WrkSummary], rate: float, start: float,
           faults: list[tuple[str, float, float]], optouts: OptoutLoop, lost: set[str], rss: RssSampler,
           health: dict[str, str], instances: list[Instance]) -> None:
    answered = soaked.answers
    other_status = soaked.non_200 - soaked.unanswered
    growth = {pid: (rss.last[pid] - rss.first[pid]) / 1024 for pid in rss.first}
    worst_growth = max(growth.values(), default=math.nan)
    wrk_errors: dict[str, int] = {}
    for summary in summaries:
        for kind, count in summary.socket_errors.items():
            wrk_errors[kind] = wrk_errors.get(kind, 0) + count
    print()
    print(f"soak: {args.duration} s at {rate:.0f} requests/s offered, {answered / args.duration:.0f} answered a second "
          f"({answered} answers; {soaked.skipped} sends dropped while a connection was over {BEHIND_LIMIT_S:.0f} s behind)")
    rows = [
        ("non-200 answers", f"{soaked.non_200} ({other_status} with another status, {soaked.unanswered} never answered)", "0"),
        (f"answers over the {args.deadline:g} s deadline", str(soaked.slow), "0"),
        ("latency p50", f"{percentile(soaked.latency, 0.50) * 1000:.1f} ms", "—"),
        ("latency p99", f"{percentile(soaked.latency, 0.99) * 1000:.1f} ms", "—"),
        ("calls decided by the fail mode (fault.*)", str(sum(n for d, n in soaked.decisions.items() if "fault." in d)), "—"),
        ("acknowledged opt-outs lost", f"{len(lost)} of {len(optouts.acknowledged)}", "0"),
        ("RSS growth per worker", f"{worst_growth:+.1f} MB at most ({len(growth)} workers)", "< 10 MB"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':{width}}  {'figure':50}  target")
    for measure, figure, target in rows:
        print(f"{measure:{width}}  {figure:50}  {target}")
    print()
    print("decisions: " + "; ".join(f"{n} {d}" for d, n in sorted(soaked.decisions.items(), key=lambda kv: -kv[1])))
    if other_status:
        print("statuses: " + ", ".join(f"{n} × {s}" for s, n in sorted(soaked.statuses.items())))
    print("wrk socket errors: " + ", ".join(f"{k} {n}" for k, n in wrk_errors.items()))
    if soaked.events:
        print("requests that went wrong or were decided by the fail mode, by when they were sent:")
        print("\n".join(describe_events(soaked.events, faults, start)))
    print(f"opt-outs: {optouts.posted} posted, {len(optouts.acknowledged)} acknowledged, not acknowledged: "
          + (", ".join(f"{n} × {what}" for what, n in optouts.refused.items()) or "none"))
    if lost:
        print("  lost: " + ", ".join(sorted(lost)[:20]))
    for pid in sorted(rss.first):
        print(f"  worker {pid} ({rss.owner[pid]}): {rss.first[pid] / 1024:.1f} -> {rss.last[pid] / 1024:.1f} MB ({growth[pid]:+.1f})")
    if rss.first.keys() != rss.baseline or rss.alive != rss.baseline:
        print(f"  workers replaced during the run: gone {sorted(rss.baseline - rss.alive)}, new {sorted(set(rss.first) - rss.baseline)}")
    for instance in instances:
        counts = log_counts(instance.log.read_text(errors="replace"))
        print(f"instance {instance.name}: /healthz {health[instance.name]}; log lines: "
              + ", ".join(f"{n} {what}" for what, n in counts.items()))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("soak: interrupted; what it started is stopped and removed")
