"""Throughput of one instance on SQLite against one instance on PostgreSQL + Redis (issue 6).

    python benchmarks/multihost.py [--duration 5] [--rounds 3]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/test] [--redis-url redis://127.0.0.1:6379/0]

Both instances run at once, each one gunicorn sync worker pinned to CPU 0, with wrk on CPU 1,
measured A/B alternating in the same run; the request signing and the wrk driver are
benchmarks/decide.py's. Two workloads of ``POST /voice/outbound``, unique destinations:

- plain: an outbound dial through the policy checks; every decision audited (batched writes),
  runtime changes polled from the database;
- telemarketing + traffic: a campaign call, whose opt-out is looked up in the records database
  on every call, under a [traffic] policy whose counters live in a SQLite file or in Redis.

Prints requests/s of each and the ratio PostgreSQL+Redis / SQLite (median of the rounds' ratios),
and the worker CPU time per request with the ratio it implies (less disturbed by other load on
the machine, but blind to the work the PostgreSQL and Redis servers do). The PostgreSQL and
Redis servers are not pinned: on a small machine they take CPU from the worker and wrk, which is
part of what the ratio measures. The benchmark makes its own PostgreSQL schema and Redis key
prefix and removes them afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from decide import (  # noqa: E402
    ACCOUNT,
    CALLER_ID,
    COUNTRIES,
    ROOT,
    TOKEN,
    run_wrk,
    unique_numbers,
    wait_for,
    worker_cpu_seconds,
    write_wrk_script,
)

POLICY = f"""
[calling_hours]
default = {{ all = "00:00-24:00" }}

[campaigns.spring]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "This is Acme Solar calling about our spring offer."

[campaigns.spring.traffic]  # limits no call reaches: every call is counted, none refused
cps = 1000000
max_calls_per_callee_per_day = 1000
velocity = [{{ country = "US", max_calls = 1000000000, window = "10m", block_for = "1h" }}]

[accounts.{ACCOUNT}]
name = "Benchmark"
caller_ids = ["{CALLER_ID}"]
default_region = "US"
[accounts.{ACCOUNT}.permissions]
""" + "\n".join(f"{c} = {{ low_risk = true, high_risk_special = true }}" for c in COUNTRIES)

WORKLOADS = {"plain": "/voice/outbound", "telemarketing + traffic": "/voice/outbound?campaign=spring"}


def start(port: int, policy_path: Path, workdir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    workdir.mkdir(parents=True, exist_ok=True)
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    process = subprocess.Popen(
        [
            *pin, sys.executable, "-m", "callguard.cli", "serve",
            "--policy", str(policy_path), "--workers", "1", "--bind", f"127.0.0.1:{port}",
        ],
        env={
            **os.environ,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "CALLGUARD_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "CALLGUARD_REGISTRY_DIR": str(workdir / "registries"),
            "CALLGUARD_COUNTERS_PATH": str(workdir / "counters.db"),
            "PYTHONPATH": str(ROOT),
            **env,
        },
        cwd=workdir,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    wait_for(process, b"callguard ready")
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("needs wrk (Debian package wrk)")
    import psycopg
    import redis

    schema = f"cg_bench_{uuid.uuid4().hex[:8]}"
    prefix = f"cgbench:{uuid.uuid4().hex[:8]}:"
    separator = "&" if "?" in args.postgres_url else "?"
    postgres_url = f"{args.postgres_url}{separator}{urlencode({'options': f'-csearch_path={schema}'})}"
    ports = {"sqlite": 18611, "postgresql+redis": 18612}
    results: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    with psycopg.connect(args.postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            policy_path = workdir / "policy.toml"
            policy_path.write_text(POLICY)
            subprocess.run(
                [sys.executable, "-m", "callguard.cli", "db", "upgrade", "--database-url", postgres_url],
                check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            sqlite_url = f"sqlite:///{workdir / 'sqlite.db'}"
            processes["sqlite"] = start(ports["sqlite"], policy_path, workdir / "sqlite", {"CALLGUARD_DATABASE_URL": sqlite_url})
            processes["postgresql+redis"] = start(
                ports["postgresql+redis"],
                policy_path,
                workdir / "postgres",
                {"CALLGUARD_DATABASE_URL": postgres_url, "CALLGUARD_REDIS_URL": args.redis_url, "CALLGUARD_REDIS_PREFIX": prefix},
            )
            per_run = 2_500 * args.duration  # enough that no run wraps around to repeated numbers
            runs = len(WORKLOADS) * args.rounds
            numbers = unique_numbers(per_run * (runs + 1), seed=3)
            for kind, port in ports.items():  # imports, first connections, first statements
                for path in WORKLOADS.values():
                    warm = workdir / f"warm-{kind}.lua"
                    write_wrk_script(warm, port, numbers[:200], path)
                    run_wrk(port, warm, 1)
            run_index = 1
            for round_ in range(args.rounds):
                order = list(ports) if round_ % 2 == 0 else list(reversed(ports))
                for label, path in WORKLOADS.items():
                    subset = numbers[run_index * per_run : (run_index + 1) * per_run]
                    run_index += 1
                    for kind in order:
                        script = workdir / f"{kind}-{round_}-{run_index}.lua"
                        write_wrk_script(script, ports[kind], subset, path)
                        before = worker_cpu_seconds(processes[kind])
                        rate, count = run_wrk(ports[kind], script, args.duration)
                        results.setdefault((kind, label), []).append(rate)
                        cpu.setdefault((kind, label), []).append((worker_cpu_seconds(processes[kind]) - before) / count * 1e6)
    finally:
        for process in processes.values():
            process.terminate()
            process.wait(timeout=30)
        with psycopg.connect(args.postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        client = redis.Redis.from_url(args.redis_url)
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {args.rounds} rounds of {args.duration} s per workload and backend")
    for label in WORKLOADS:
        lite, multi = results[("sqlite", label)], results[("postgresql+redis", label)]
        ratios = [m / s for m, s in zip(multi, lite, strict=True)]
        lite_cpu, multi_cpu = statistics.median(cpu[("sqlite", label)]), statistics.median(cpu[("postgresql+redis", label)])
        print(
            f"{label:24} SQLite {statistics.median(lite):6.0f} req/s   PostgreSQL+Redis {statistics.median(multi):6.0f} req/s   "
            f"ratio {statistics.median(ratios):.2f} (per round: {', '.join(f'{r:.2f}' for r in ratios)})"
        )
        print(
            f"{'':24} worker CPU per request: SQLite {lite_cpu:5.0f} µs   PostgreSQL+Redis {multi_cpu:5.0f} µs   "
            f"ratio by worker CPU time {lite_cpu / multi_cpu:.2f}"
        )


if __name__ == "__main__":
    main()
