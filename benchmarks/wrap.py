"""Throughput of a wrapped TwiML handler as a ratio of the same handler bare (issue: wrap existing apps).

    python benchmarks/wrap.py [--duration 5] [--rounds 6]

The handler is examples/voice_app.py's ``incoming`` view: it checks the Twilio signature itself
and answers ``<Say>`` and a ``<Dial>``. It is served bare (``voice_app:app``) and wrapped with
``@guard.protect`` (``protected_app:app``), each under one gunicorn sync worker pinned to CPU 0,
driven by wrk on CPU 1 with signed POSTs, in order alternating round by round, in one run, for:

- ``one number``: the ``<Dial>`` rings one permitted number; the document goes back as written;
- ``three, one refused``: it rings three numbers and the policy refuses one, so every answer is
  rewritten (three decisions, each audited).

Prints requests/s of each, the ratio wrapped/bare per round and its median, and the same by
worker CPU time per request. Then, side by side: bare and wrapped served at the same time, both
workers on CPU 0 and both wrk on CPU 1, so the two share every moment of the machine and its
drift (on a VM whose speed wanders by tens of percent from one second to the next, rounds a few
seconds apart can disagree by more than the difference being measured). With both workers kept
busy on one CPU, the ratio of their request rates is the ratio of their costs per request.
A gunicorn server started after another runs a little faster than it (2 to 3% of a request
here, for two copies of one app), so half the rounds run with the bare servers started first
and half with the wrapped ones; the side-by-side ratio of each half is printed too.
Target: a ratio of 0.8 or better. Needs ``wrk`` (Debian: wrk).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from decide import run_wrk, wait_for, worker_cpu_seconds, write_signed_posts_script  # noqa: E402

ACCOUNT = "AC00000000000000000000000000000001"
TOKEN = "benchmark-auth-token-0123456789ab"
PATH = "/voice/incoming"

POLICY = f"""
[accounts.{ACCOUNT}]
caller_ids = ["+14155550100"]
[accounts.{ACCOUNT}.permissions]
US = {{ low_risk = true }}
GB = {{ low_risk = true }}
"""
# scenario: the numbers the handler dials (the last is in Berlin, which POLICY refuses)
SCENARIOS = {"one number": "+14155550123", "three, one refused": "+14155550123,+442079460018,+4930901820"}


def start(app: str, port: int, workdir: Path, policy: Path, team: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SALES_TEAM": team,
        "CALLGUARD_POLICY": str(policy),
        "TWILIO_AUTH_TOKEN": TOKEN,
        "VOICE_APP_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CALLGUARD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CALLGUARD_DATABASE_URL": f"sqlite:///{workdir / f'{port}.db'}",
        "CALLGUARD_COUNTERS_PATH": str(workdir / f"{port}-counters.db"),
        "CALLGUARD_REGISTRY_DIR": str(workdir / "registries"),
        "PYTHONPATH": f"{ROOT}:{ROOT / 'examples'}",
    }
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    command = [*pin, sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}", f"{app}:app"]
    process = subprocess.Popen(command, env=env, cwd=workdir, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    wait_for(process, b"Booting worker")
    return process


def write_wrk_script(path: Path, port: int, count: int = 200) -> None:
    requests = [
        {
            "AccountSid": ACCOUNT, "ApiVersion": "2010-04-01", "CallSid": f"CA{i:032x}", "CallStatus": "ringing",
            "Direction": "inbound", "From": "+12125550199", "To": "+14155550100",
        }
        for i in range(count)
    ]
    write_signed_posts_script(path, port, PATH, requests, TOKEN)


def measure(
    workdir: Path,
    policy: Path,
    kinds: list[tuple[str, bool]],
    order: list[tuple[str, bool]],
    rounds: int,
    duration: int,
    rates: dict[tuple[str, bool], list[float]],
    cpu: dict[tuple[str, bool], list[float]],
    side_by_side: dict[str, list[float]],
) -> None:
    """Start one server per kind in ``order``, then run the one-at-a-time and side-by-side rounds."""
    servers: dict[tuple[str, bool], subprocess.Popen[bytes]] = {}
    ports: dict[tuple[str, bool], int] = {}

    def record_rate(into: dict[tuple[str, bool], float], kind: tuple[str, bool]) -> None:
        """A side-by-side run: ``kind``'s requests/s, put in ``into`` (run on a thread of its own)."""
        into[kind] = run_wrk(ports[kind], workdir / f"{kinds.index(kind)}.lua", duration)[0]

    try:
        for kind in order:
            index = kinds.index(kind)
            ports[kind] = 18_600 + index
            scenario, wrapped = kind
            servers[kind] = start("protected_app" if wrapped else "voice_app", ports[kind], workdir, policy, SCENARIOS[scenario])
            write_wrk_script(workdir / f"{index}.lua", ports[kind])
            run_wrk(ports[kind], workdir / f"{index}.lua", 2)  # imports, first connections, caches
        for round_ in range(rounds):
            for index in range(len(kinds)) if round_ % 2 == 0 else reversed(range(len(kinds))):
                kind = kinds[index]
                before = worker_cpu_seconds(servers[kind])
                rate, count = run_wrk(ports[kind], workdir / f"{index}.lua", duration)
                rates[kind].append(rate)
                cpu[kind].append((worker_cpu_seconds(servers[kind]) - before) / count * 1e6)
        for _round in range(rounds):
            for scenario in SCENARIOS:
                pair: dict[tuple[str, bool], float] = {}
                runs = [threading.Thread(target=record_rate, args=(pair, k)) for k in ((scenario, False), (scenario, True))]
                for run in runs:
                    run.start()
                for run in runs:
                    run.join()
                side_by_side[scenario].append(pair[(scenario, True)] / pair[(scenario, False)])
    finally:
        for process in servers.values():
            process.terminate()
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=6, help="rounds of each kind, half with each start order (default 6)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("benchmarks/wrap.py needs wrk (apt-get install wrk)")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    kinds = [(scenario, wrapped) for scenario in SCENARIOS for wrapped in (False, True)]
    rates: dict[tuple[str, bool], list[float]] = {kind: [] for kind in kinds}
    cpu: dict[tuple[str, bool], list[float]] = {kind: [] for kind in kinds}
    side_by_side: dict[str, list[float]] = {scenario: [] for scenario in SCENARIOS}
    by_order: dict[str, dict[str, list[float]]] = {scenario: {} for scenario in SCENARIOS}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        policy = workdir / "policy.toml"
        policy.write_text(POLICY)
        # A server started later runs faster than one started before it (here, by 2 to 3% of a
        # request, for identical apps): half the rounds start the bare servers first, half the
        # wrapped ones, so the start order favours neither.
        halves = [(False, (args.rounds + 1) // 2), (True, args.rounds // 2)]
        for wrapped_first, rounds in halves:
            if rounds == 0:
                continue
            order = sorted(kinds, key=lambda kind: (kind[1] is not wrapped_first, kinds.index(kind)))
            before = {scenario: len(ratios) for scenario, ratios in side_by_side.items()}
            measure(workdir, policy, kinds, order, rounds, args.duration, rates, cpu, side_by_side)
            for scenario, ratios in side_by_side.items():
                by_order[scenario]["wrapped started first" if wrapped_first else "bare started first"] = ratios[before[scenario]:]
    for scenario in SCENARIOS:
        bare, wrapped = (scenario, False), (scenario, True)
        ratios = [w / b for w, b in zip(rates[wrapped], rates[bare], strict=True)]
        bare_cpu, wrapped_cpu = statistics.median(cpu[bare]), statistics.median(cpu[wrapped])
        print(
            f"{scenario:19} bare {statistics.median(rates[bare]):6.0f} req/s ({bare_cpu:4.0f} µs CPU)   "
            f"wrapped {statistics.median(rates[wrapped]):6.0f} req/s ({wrapped_cpu:4.0f} µs CPU)   "
            f"ratio {statistics.median(ratios):.2f} (rounds: {', '.join(f'{r:.2f}' for r in ratios)}), "
            f"by CPU time {bare_cpu / wrapped_cpu:.2f}"
        )
    for scenario, ratios in side_by_side.items():
        print(f"{scenario:19} side by side: ratio {statistics.median(ratios):.2f} (rounds: {', '.join(f'{r:.2f}' for r in ratios)})")
    for scenario, orders in by_order.items():
        medians = "; ".join(f"{name} {statistics.median(r):.2f}" for name, r in orders.items())
        print(f"{scenario:19} side by side, by start order: {medians}")
    print(
        f"target: ratio >= 0.8.  {args.rounds} rounds of {args.duration} s, order alternating, "
        "one sync worker each on CPU 0, wrk on CPU 1"
    )


if __name__ == "__main__":
    main()
