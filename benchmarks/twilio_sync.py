"""What following Twilio costs a worker (issue: Twilio as a source of truth).

    python benchmarks/twilio_sync.py [--numbers 10000] [--decisions 20000] [--rounds 5]

Prints:
1. ``Guard.check`` per decision for an account with ``twilio = "mirror"`` whose Twilio picture
   holds ``--numbers`` numbers, against the same account with the same permissions and caller
   IDs declared in the policy instead (the baseline), alternating A/B in this process, for
   unique and for repeated destinations, with the ratio. Decisions never touch Twilio or the
   database: the picture is part of the policy snapshot, so the ratio should be about 1.
2. What a worker does once per sync (every CALLGUARD_TWILIO_SYNC_INTERVAL): load the stored
   snapshot from SQLite and lay it over the policy, against reloading the runtime overrides
   (the refresher's other job) in the same run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from callguard import DialRequest, Guard, parse_policy  # noqa: E402
from callguard.policy.twilio_apply import apply_twilio  # noqa: E402
from callguard.policy.twilio_snapshot import TwilioAccount, TwilioCountry  # noqa: E402
from callguard.store import create_database_engine, ensure_schema  # noqa: E402
from callguard.store.overrides import OverrideStore  # noqa: E402
from callguard.store.twilio_snapshots import SyncWrite, TwilioSnapshotStore  # noqa: E402

ACCOUNT = "AC00000000000000000000000000000001"
COUNTRIES = {"US": "+1", "CA": "+1", "GB": "+44", "DE": "+49", "FR": "+33", "AU": "+61", "NL": "+31"}


def numbers(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return sorted({f"+1415{rng.randrange(2_000_000, 9_999_999):07d}" for _ in range(count * 2)})[:count]


def policies(caller_ids: list[str]) -> tuple[object, object]:
    """(mirrored account with Twilio's picture applied, the same account declared in the policy)."""
    permissions = {c: {"low_risk": True} for c in COUNTRIES}
    mirrored = parse_policy({"accounts": {ACCOUNT: {"twilio": "mirror", "default_region": "US"}}})
    countries = tuple(TwilioCountry(iso, (code,), True, False, False) for iso, code in COUNTRIES.items() if iso != "CA")
    picture = TwilioAccount(
        ACCOUNT, ACCOUNT, "Benchmark", "active", synced_at=time.time(), incoming_numbers=frozenset(caller_ids), countries=countries
    )
    from callguard.policy.twilio_snapshot import TwilioSnapshot

    synced = apply_twilio(mirrored, TwilioSnapshot(1, {ACCOUNT: picture}), max_staleness=86_400)
    declared = parse_policy({"accounts": {ACCOUNT: {"caller_ids": caller_ids, "default_region": "US", "permissions": permissions}}})
    return synced, declared


def destinations(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"+1{rng.choice(['212', '312', '415', '617', '646'])}{rng.randrange(2_000_000, 9_999_999):07d}" for _ in range(count)]


def compare_us(first: object, second: object, calls: list[tuple[str, str]], chunk: int = 500) -> tuple[float, float]:
    """µs per decision of two fresh Guards over the same calls, alternating in small chunks so load drift cancels."""
    guards = (Guard(first), Guard(second))  # type: ignore[arg-type]
    spent = [0.0, 0.0]
    for index in range(0, len(calls), chunk):
        part = calls[index : index + chunk]
        for which in ((0, 1) if index // chunk % 2 else (1, 0)):
            check = guards[which].check
            started = time.perf_counter()
            for to, caller in part:
                check(DialRequest(ACCOUNT, to, from_=caller))
            spent[which] += time.perf_counter() - started
    return spent[0] / len(calls) * 1e6, spent[1] / len(calls) * 1e6


def decisions(args: argparse.Namespace) -> None:
    caller_ids = numbers(args.numbers, 1)
    synced, declared = policies(caller_ids)
    rng = random.Random(2)
    for label, repeated in (("unique destinations", False), ("repeated destinations", True)):
        mirror, baseline = [], []
        for round_ in range(args.rounds):
            if repeated:  # the same 200 calls over and over: every decision after the first is a cache hit
                pool = [(to, rng.choice(caller_ids)) for to in destinations(200, 10 + round_)]
                calls = [rng.choice(pool) for _ in range(args.decisions)]
            else:
                calls = [(to, rng.choice(caller_ids)) for to in destinations(args.decisions, 10 + round_)]
            a, b = compare_us(synced, declared, calls)
            mirror.append(a)
            baseline.append(b)
        m, d = statistics.median(mirror), statistics.median(baseline)
        print(f"Guard.check, {label}: mirror {m:.1f} µs, declared {d:.1f} µs (medians of {args.rounds} rounds), ratio {m / d:.2f}")


def refresh(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as directory:
        engine = create_database_engine(f"sqlite:///{directory}/bench.db")
        ensure_schema(engine)
        store, overrides = TwilioSnapshotStore(engine), OverrideStore(engine)
        countries = tuple(TwilioCountry(iso, (code,), True, False, False) for iso, code in COUNTRIES.items())
        incoming = frozenset(numbers(args.numbers, 1))
        picture = TwilioAccount(ACCOUNT, ACCOUNT, "Benchmark", "active", incoming_numbers=incoming, countries=countries)
        store.write(SyncWrite(at=time.time(), synced=[picture]))
        for i in range(20):
            overrides.add_block(f"+2474{i}", account_sid=None, reason="bench", expires_at=None, actor="bench", now=time.time())
        mirrored = parse_policy({"accounts": {ACCOUNT: {"twilio": "mirror"}}})
        load_ms, apply_ms, overrides_ms = [], [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            snapshot = store.load()
            load_ms.append((time.perf_counter() - started) * 1e3)
            started = time.perf_counter()
            apply_twilio(mirrored, snapshot, max_staleness=86_400)
            apply_ms.append((time.perf_counter() - started) * 1e3)
            started = time.perf_counter()
            overrides.load()
            overrides_ms.append((time.perf_counter() - started) * 1e3)
        engine.dispose()
    load, apply, base = (statistics.median(v) for v in (load_ms, apply_ms, overrides_ms))
    print(
        f"per sync and worker, {args.numbers} numbers: load {load:.1f} ms + apply {apply:.1f} ms "
        f"(reloading 20 runtime overrides: {base:.2f} ms; ratio {(load + apply) / base:.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=10_000)
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    decisions(args)
    refresh(args)


if __name__ == "__main__":
    main()
