"""Decision time and webhook throughput (issue: the decision engine and the outbound webhook).

    python benchmarks/decide.py [--numbers 20000] [--duration 10] [--rounds 3]

Prints:
1. ``Guard.check`` time per decision for unique destinations (every number new to the caches)
   and for repeated ones, median and tail, in this process.
2. Requests/s of ``POST /voice/outbound`` under one gunicorn sync worker, against a hand-written
   Flask handler that only validates the signature, parses ``To`` with phonenumbers and returns
   ``<Dial>`` (benchmarks/handwritten_app.py), measured in the same run, alternating A/B, with
   the server pinned to CPU 0 and wrk to CPU 1. Needs ``wrk`` (Debian package ``wrk``).

Targets: decision median < 60 µs unique, < 5 µs repeated; webhook >= 0.85 of the baseline.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import selectors
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from callguard import DialRequest, Guard, load_policy  # noqa: E402

ACCOUNT = "AC00000000000000000000000000000001"
TOKEN = "benchmark-auth-token-0123456789ab"
CALLER_ID = "+14155550100"
COUNTRIES = ["US", "CA", "GB", "DE", "FR", "AU", "NL", "IT", "ES", "BR", "IN", "MX"]
# Roughly an outbound-calling mix: mostly domestic, some international.
WEIGHTS = [60, 8, 6, 4, 4, 3, 3, 3, 3, 2, 2, 2]

POLICY = f"""
[accounts.{ACCOUNT}]
name = "Benchmark"
caller_ids = ["{CALLER_ID}"]
default_region = "US"
[accounts.{ACCOUNT}.permissions]
""" + "\n".join(f"{c} = {{ low_risk = true, high_risk_special = true }}" for c in COUNTRIES)


def unique_numbers(count: int, seed: int = 1) -> list[str]:
    """``count`` distinct valid E.164 numbers, mixed over COUNTRIES and mobile/fixed types."""
    rng = random.Random(seed)
    examples = {
        c: [e for e in (phonenumbers.example_number_for_type(c, t) for t in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE)) if e]
        for c in COUNTRIES
    }
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        country = rng.choices(COUNTRIES, WEIGHTS)[0]
        example = rng.choice(examples[country])
        digits = list(str(example.national_number))
        for i in range(max(1, len(digits) - 5), len(digits)):
            digits[i] = str(rng.randrange(10))
        number = phonenumbers.PhoneNumber(country_code=example.country_code, national_number=int("".join(digits)))
        e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
        if e164 not in seen and phonenumbers.is_valid_number(number):
            seen.add(e164)
            out.append(e164)
    return out


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def bench_decisions(policy_path: Path, numbers: list[str]) -> dict[str, float]:
    guard = Guard(load_policy(policy_path))
    requests = [DialRequest(ACCOUNT, n, CALLER_ID, call_sid=f"CA{i:032x}", source="bench") for i, n in enumerate(numbers)]
    clock = time.perf_counter_ns
    check = guard.check

    def run() -> list[float]:
        times = []
        for request in requests:
            start = clock()
            check(request)
            times.append((clock() - start) / 1000)
        return times

    unique = run()
    repeat = run()
    decisions = [guard.check(r) for r in requests[:2000]]
    assert all(d.action.value == "connect" for d in decisions), [d.sentence for d in decisions if d.action.value != "connect"][:3]
    print(
        f"decision, unique destinations ({len(numbers)}):   median {statistics.median(unique):6.1f} µs   "
        f"p90 {percentile(unique, .9):6.1f}   p99 {percentile(unique, .99):6.1f}"
    )
    print(
        f"decision, repeated destinations ({len(numbers)}): median {statistics.median(repeat):6.1f} µs   "
        f"p90 {percentile(repeat, .9):6.1f}   p99 {percentile(repeat, .99):6.1f}"
    )
    return {"unique": statistics.median(unique), "repeat": statistics.median(repeat)}


# -- webhook throughput ------------------------------------------------------------------


def wait_for(process: subprocess.Popen[bytes], needle: bytes, timeout: float = 60) -> None:
    assert process.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    said = b""
    while time.monotonic() < deadline and selector.select(deadline - time.monotonic()):
        line = process.stderr.readline()
        said += line
        if needle in line:
            return
        if not line:
            break
    raise RuntimeError(f"server did not start:\n{said.decode(errors='replace')}")


def start_server(kind: str, port: int, policy_path: Path, workdir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "CALLGUARD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CALLGUARD_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "PYTHONPATH": f"{ROOT}:{ROOT / 'benchmarks'}",
    }
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    if kind == "callguard":
        command = [
            *pin, sys.executable, "-m", "callguard.cli", "serve",
            "--policy", str(policy_path), "--workers", "1", "--bind", f"127.0.0.1:{port}",
        ]
        ready = b"callguard ready"
    else:
        command = [*pin, sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}", "handwritten_app:app"]
        ready = b"Booting worker"
    process = subprocess.Popen(command, env=env, cwd=workdir, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    wait_for(process, ready)
    return process


def outbound_params(numbers: list[str]) -> list[dict[str, str]]:
    """The webhook parameters Twilio sends for an outbound dial from the benchmark account, one per number."""
    return [
        {
            "AccountSid": ACCOUNT,
            "ApiVersion": "2010-04-01",
            "CallSid": f"CA{i:032x}",
            "CallStatus": "ringing",
            "Direction": "inbound",
            "From": CALLER_ID,
            "To": number,
        }
        for i, number in enumerate(numbers)
    ]


def write_wrk_script(path: Path, port: int, numbers: list[str], request_path: str = "/voice/outbound") -> None:
    write_signed_posts_script(path, port, request_path, outbound_params(numbers), TOKEN)


def write_signed_posts_script(path: Path, port: int, request_path: str, requests: list[dict[str, str]], token: str) -> None:
    """A wrk script that POSTs ``requests`` in turn, each signed as Twilio signs it, and counts non-200 answers."""
    validator = RequestValidator(token)
    url = f"http://127.0.0.1:{port}{request_path}"
    bodies = [urlencode(params) for params in requests]
    signatures = [validator.compute_signature(url, params) for params in requests]
    lua = ["local bodies = {"] + [f'"{b}",' for b in bodies] + ["}", "local sigs = {"] + [f'"{s}",' for s in signatures] + ["}"]
    headers = '{["Content-Type"] = "application/x-www-form-urlencoded", ["X-Twilio-Signature"] = sigs[i]}'
    lua += [
        "local i = 0",
        "request = function()",
        "  i = i % #bodies + 1",
        f'  return wrk.format("POST", "{request_path}", {headers}, bodies[i])',
        "end",
        "local non2xx = 0",
        "response = function(status, headers, body) if status ~= 200 then non2xx = non2xx + 1 end end",
        'done = function(summary, latency, requests) io.write(string.format("non200 %d\\n", non2xx)) end',
    ]
    path.write_text("\n".join(lua))


def worker_cpu_seconds(master: subprocess.Popen[bytes]) -> float:
    """User + system CPU time of the server's worker processes (and their threads) so far."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    total = 0
    for pid in children:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def run_wrk(port: int, script: Path, duration: int) -> tuple[float, int]:
    """(requests/s, requests made)."""
    pin = ["taskset", "-c", "1"] if shutil.which("taskset") else []
    out = subprocess.run(
        [*pin, "wrk", "-t1", "-c4", f"-d{duration}s", "-s", str(script), f"http://127.0.0.1:{port}/voice/outbound"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    errors = re.search(r"non200 (\d+)", out)
    if not match or not count or not errors or int(errors.group(1)):
        raise RuntimeError(f"wrk run failed or saw non-200 answers:\n{out}")
    return float(match.group(1)), int(count.group(1))


def bench_webhook(policy_path: Path, numbers: list[str], duration: int, rounds: int) -> dict[str, float]:
    if not shutil.which("wrk"):
        print("webhook throughput: skipped (install wrk: apt-get install wrk)")
        return {}
    results: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    ports = {"callguard": 18601, "handwritten": 18602}
    per_round = len(numbers) // rounds
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        servers = {kind: start_server(kind, port, policy_path, workdir) for kind, port in ports.items()}
        try:
            for kind, port in ports.items():
                warm = workdir / f"{kind}-warm.lua"
                write_wrk_script(warm, port, numbers[-50:])
                run_wrk(port, warm, 2)  # imports, metadata, first connections
            for round_ in range(rounds):
                # Both servers get the same numbers; each round's unique numbers are new to both.
                subsets = {"unique": numbers[round_ * per_round : (round_ + 1) * per_round], "repeated": numbers[-50:]}
                order = list(ports) if round_ % 2 == 0 else list(reversed(ports))
                for label, subset in subsets.items():
                    for kind in order:
                        script = workdir / f"{kind}-{label}-{round_}.lua"
                        write_wrk_script(script, ports[kind], subset)
                        cpu_before = worker_cpu_seconds(servers[kind])
                        rate, count = run_wrk(ports[kind], script, duration)
                        results.setdefault((kind, label), []).append(rate)
                        cpu.setdefault((kind, label), []).append((worker_cpu_seconds(servers[kind]) - cpu_before) / count * 1e6)
        finally:
            for process in servers.values():
                process.terminate()
                process.wait(timeout=30)
    summary = {}
    for label in ("unique", "repeated"):
        ours, base = results[("callguard", label)], results[("handwritten", label)]
        ratios = [a / b for a, b in zip(ours, base, strict=True)]
        summary[label] = statistics.median(ratios)
        ours_cpu, base_cpu = statistics.median(cpu[("callguard", label)]), statistics.median(cpu[("handwritten", label)])
        print(
            f"webhook, {label:8} destinations: callguard {statistics.median(ours):7.0f} req/s   "
            f"hand-written {statistics.median(base):7.0f} req/s   ratio {statistics.median(ratios):.2f} "
            f"(per round: {', '.join(f'{r:.2f}' for r in ratios)})"
        )
        print(
            f"         worker CPU per request: callguard {ours_cpu:6.0f} µs   hand-written {base_cpu:6.0f} µs   "
            f"throughput ratio by CPU time {base_cpu / ours_cpu:.2f}"
        )
    print(f"         ({rounds} rounds of {duration} s, A/B order alternating, one sync worker each on CPU 0, wrk on CPU 1)")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=20_000)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-webhook", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        policy_path = Path(tmp) / "policy.toml"
        policy_path.write_text(POLICY)
        numbers = unique_numbers(args.numbers)
        print(f"python {sys.version.split()[0]}, phonenumbers {phonenumbers.__version__}, {os.cpu_count()} CPUs")
        bench_decisions(policy_path, numbers)
        if not args.skip_webhook:
            # Enough unique numbers that no round's wrk run wraps around to repeats.
            webhook_numbers = unique_numbers(2_500 * args.duration * args.rounds, seed=2)
            bench_webhook(policy_path, webhook_numbers, args.duration, args.rounds)


if __name__ == "__main__":
    main()
