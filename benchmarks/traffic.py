"""Decision time with traffic counters on, SQLite and Redis, against counters off (same run).

    python benchmarks/traffic.py [--calls 5000] [--redis-url redis://127.0.0.1:6379/0]

Each decision runs the [traffic] policy below (rate, concurrency, caller-ID throttles, two
velocity triggers of which one matches, the per-callee limit, the report tallies) in one
counter batch. The clock moves 50 ms a call (20 calls a second, so windows hold what they
would in production), and each call's final status is reported after it (not timed), which
frees its concurrency slot and feeds the caller-ID statistics. Start-up objects are frozen
out of the garbage collector's reach first, as ``callguard serve`` does in each worker.
Targets: counters add under 150 µs per call on SQLite and under 300 µs on Redis over loopback.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from callguard import DialRequest, FakeClock, Guard, parse_policy  # noqa: E402
from callguard.cli.gunicorn import freeze_startup_objects  # noqa: E402
from callguard.lookups import Lookups  # noqa: E402
from callguard.store.counters import open_counters  # noqa: E402
from callguard.traffic import TrafficMonitor  # noqa: E402

ACCOUNT = "AC00000000000000000000000000000001"
POLICY = {
    "traffic": {
        "cps": 100,
        "concurrent": 500,
        "max_calls_per_callee_per_day": 3,
        "unanswered": {"last": 100, "min_attempts": 20, "min_answer_ratio": 0.1},
        "short_calls": {"last": 50, "min_answered": 10, "min_average_seconds": 5},
        "velocity": [
            {"country": "US", "max_calls": 5000, "window": "10m", "block_for": "1h"},
            {"prefix": "+371", "max_calls": 20, "window": "10m", "block_for": "1d"},
        ],
    },
    "accounts": {ACCOUNT: {"caller_ids": ["+14155550100"], "permissions": {"US": {"low_risk": True}}}},
}


def run(label: str, monitor: TrafficMonitor | None, calls: int, clock: FakeClock) -> list[float]:
    guard = Guard(parse_policy(POLICY), clock=clock, lookups=Lookups(traffic=monitor))
    account = guard.policy.accounts[ACCOUNT]
    distinct = 2000
    numbers = [f"+1415666{i % distinct:04d}" for i in range(calls)]  # repeated: the engine part stays cached
    times = []
    for index, number in enumerate(numbers):
        call_sid = "CA" + uuid.uuid4().hex
        request = DialRequest(ACCOUNT, number, "+14155550100", call_sid=call_sid)
        started = time.perf_counter()
        decision = guard.check(request)
        times.append((time.perf_counter() - started) * 1e6)
        if decision.action.value != "connect":
            raise SystemExit(f"{label}: call {index} refused: {decision.sentence}")
        if monitor is not None:
            monitor.after_call(account_sid=ACCOUNT, caller_id="+14155550100", call_sid=call_sid, answered=index % 3 != 0,
                               duration=42.0, policy=account.traffic, now=clock())
        clock.advance(0.05)
    # Without the first pass over the numbers, whose decisions also fill the engine's cache:
    # what is left differs between the runs only by the counters.
    return times[distinct:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        backends = {
            "off": None,
            "sqlite": open_counters(None, str(Path(tmp) / "counters.db")),
            "redis": open_counters(args.redis_url, "", prefix=f"cgbench:{uuid.uuid4().hex[:8]}:", timeout=0.5),
        }
        results: dict[str, list[float]] = {name: [] for name in backends}
        freeze_startup_objects()  # what each worker of `callguard serve` does once its app is built
        for _round in range(3):  # alternate, so drift hits each the same
            for name, backend in backends.items():
                monitor = TrafficMonitor(backend) if backend is not None else None
                # Each round two days on: the per-callee limit (3 a day) starts afresh.
                results[name] += run(name, monitor, args.calls, FakeClock(time.time() + _round * 2 * 86_400))
        base = statistics.median(results["off"])
        print(f"decision median, counters off: {base:7.1f} µs  (p90 {statistics.quantiles(results['off'], n=10)[-1]:.1f})")
        for name, target in (("sqlite", 150), ("redis", 300)):
            median = statistics.median(results[name])
            p90 = statistics.quantiles(results[name], n=10)[-1]
            print(
                f"decision median, counters on {name:6}: {median:7.1f} µs  (p90 {p90:.1f}); "
                f"counters add {median - base:6.1f} µs per call (target < {target} µs), ratio {median / base:.1f}x"
            )
        redis_backend = backends["redis"]
        keys = list(redis_backend.client.scan_iter(match=redis_backend.prefix + "*"))  # type: ignore[union-attr]
        if keys:
            redis_backend.client.delete(*keys)  # type: ignore[union-attr]


if __name__ == "__main__":
    main()
