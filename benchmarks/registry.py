"""National registry files: lookup time against a Python set, build rate, size, worker memory.

    python benchmarks/registry.py [--small 10000000] [--large 250000000] [--skip-large]

Prints, for numbers drawn uniformly from every US exchange (NPA-NXX) phonenumbers knows:
1. at 10 M numbers: lookup time of the registry's probe and of a Python ``set`` of the same
   numbers (E.164 strings), both as ``number in container`` over fresh query strings, half of
   them listed, same run; the set's memory; the file's size;
2. at 250 M numbers (the FTC registry holds about 253 M): the build rate from FTC-format text
   files (parse + build), the file size, the lookup time;
3. the memory of one and of two gunicorn sync workers serving lookups from the 250 M file:
   RSS, and the registry mapping's private and shared bytes per worker (/proc/<pid>/smaps);
   and, as the baseline, the private memory of two workers with no registry file.
Targets: lookup no slower than the set's; < 0.5 µs at 250 M; file < 500 MB; build >= 5 M
numbers/s; a second worker adding < 5 MB.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import os
import selectors
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from callguard.hours.rules import us_area_code_states  # noqa: E402
from callguard.registry import RegistryDirectory, RegistryFile, RegistryKind  # noqa: E402
from callguard.registry.builder import build  # noqa: E402
from callguard.registry.parsers import parse_nanp  # noqa: E402
from callguard.registry.probe import ACCELERATED  # noqa: E402

AREA_CODES = np.array(sorted(int(a) for a in us_area_code_states()), dtype=np.int64)
EXCHANGES = (AREA_CODES[:, None] * 1000 + np.arange(200, 1000)[None, :]).ravel()  # every NPA-NXX


def synthetic(count: int, seed: int) -> np.ndarray:
    """``count`` numbers (10-digit, duplicates possible) uniform over every US exchange."""
    rng = np.random.default_rng(seed)
    return EXCHANGES[rng.integers(0, len(EXCHANGES), count)] * 10_000 + rng.integers(0, 10_000, count)


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def time_lookups(container: object, queries: list[list[str]]) -> float:
    """Median over batches of the mean time of one ``q in container``, in ns."""
    per_lookup = []
    for batch in queries:
        started = time.perf_counter_ns()
        for q in batch:
            q in container  # noqa: B015
        per_lookup.append((time.perf_counter_ns() - started) / len(batch))
    return statistics.median(per_lookup)


def fresh_queries(listed: np.ndarray, seed: int, batches: int = 30, size: int = 50_000) -> list[list[str]]:
    """Batches of new str objects (no cached hashes), half of them listed numbers."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(batches):
        hits = listed[rng.integers(0, len(listed), size // 2)]
        misses = synthetic(size // 2, int(rng.integers(1 << 30)))
        out.append([f"+1{n}" for n in np.concatenate([hits, misses]).tolist()])
    return out


def small(count: int, workdir: Path) -> None:
    keys = np.unique(synthetic(int(count * 1.04), seed=1))[:count]
    path = workdir / "small" / "us_ftc.cgreg"
    started = time.perf_counter()
    build(str(path), name="us_ftc", kind=RegistryKind.NANP, keys=keys, regions={"US"}, as_of=time.time())
    built = time.perf_counter() - started
    registry = RegistryFile(str(path))
    probe = registry.probe
    gc.collect()
    before = rss_mb()
    numbers = {f"+1{n}" for n in keys.tolist()}
    set_mb = rss_mb() - before
    queries = fresh_queries(keys, seed=2)
    for _ in range(2):  # warm both, alternate
        time_lookups(probe, queries[:3])
        time_lookups(numbers, queries[:3])
    registry_ns = time_lookups(probe, queries)
    set_ns = time_lookups(numbers, queries)
    directory = RegistryDirectory(path.parent)

    def directory_lookup_ns(batch: list[str]) -> float:
        """The mean time of one ``directory.lookup`` over ``batch``, in ns."""
        started = time.perf_counter_ns()
        for q in batch:
            directory.lookup(q, "US")
        return (time.perf_counter_ns() - started) / len(batch)

    directory_ns = statistics.median(directory_lookup_ns(batch) for batch in queries[:10])
    print(f"\n-- {count / 1e6:.0f} M numbers (probe in {'C' if ACCELERATED else 'pure Python'})")
    print(
        f"file {path.stat().st_size / 1e6:.1f} MB, built in {built:.2f} s from sorted keys; "
        f"Python set of the same numbers: {set_mb:.0f} MB"
    )
    print(
        f"lookup median: registry {registry_ns:.0f} ns, set {set_ns:.0f} ns, "
        f"ratio registry/set {registry_ns / set_ns:.2f} (target <= 1.00)"
    )
    print(f"RegistryDirectory.lookup (clock check, region check, probe): {directory_ns:.0f} ns")
    del numbers
    gc.collect()


def write_ftc_files(keys: np.ndarray, directory: Path, files: int) -> list[str]:
    directory.mkdir(parents=True)
    paths = []
    for index, part in enumerate(np.array_split(keys, files)):
        rows = np.empty((len(part), 11), dtype=np.uint8)
        rest = part.copy()
        for column in range(9, -1, -1):
            rows[:, column] = rest % 10 + 48
            rest //= 10
        rows[:, 10] = 10
        path = directory / f"national-{index:02d}.txt"
        path.write_bytes(rows.tobytes())
        paths.append(str(path))
    return paths


def smaps_of(pid: int, needle: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    inside = False
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5 and not fields[0].endswith(":"):
                inside = line.rstrip().endswith(needle)
            elif inside and fields[0].endswith(":") and len(fields) >= 2 and fields[1].isdigit():
                totals[fields[0][:-1]] = totals.get(fields[0][:-1], 0) + int(fields[1]) * 1024
    return totals


def private_of(pid: int) -> int:
    """USS: the process's own memory, shared with no other process."""
    total = 0
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1]) * 1024
    return total


def rss_of(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def workers(registry_dir: Path, count: int, port: int, listed: np.ndarray) -> list[dict[str, float]]:
    env = {**os.environ, "CALLGUARD_REGISTRY_DIR": str(registry_dir), "PYTHONPATH": f"{ROOT}:{ROOT / 'benchmarks'}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(count), "--bind", f"127.0.0.1:{port}", "registry_app:app"],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, cwd=ROOT / "benchmarks",
    )
    selector = selectors.DefaultSelector()
    selector.register(server.stderr, selectors.EVENT_READ)  # type: ignore[arg-type]
    booted = 0
    deadline = time.monotonic() + 60
    while booted < count and time.monotonic() < deadline and selector.select(deadline - time.monotonic()):
        booted += b"Booting worker" in server.stderr.readline()  # type: ignore[union-attr]
    try:
        pids: set[int] = set()
        queries = [f"+1{n}" for n in np.concatenate([listed[:2000], synthetic(2000, 7)]).tolist()]
        for attempt, q in enumerate(queries * 2):  # bounded; every worker gets its share
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/pid" if attempt % 50 == 0 else f"/lookup?n={q.replace('+', '%2B')}")
            body = conn.getresponse().read()
            if attempt % 50 == 0:
                pids.add(int(body))
        results = []
        for pid in sorted(pids):
            mapping = smaps_of(pid, "us_ftc.cgreg")
            results.append(
                {
                    "pid": pid,
                    "rss_mb": rss_of(pid) / 1e6,
                    "uss_mb": private_of(pid) / 1e6,
                    "registry_rss_mb": mapping.get("Rss", 0) / 1e6,
                    "registry_private_mb": (mapping.get("Private_Clean", 0) + mapping.get("Private_Dirty", 0)) / 1e6,
                    "registry_shared_mb": (mapping.get("Shared_Clean", 0) + mapping.get("Shared_Dirty", 0)) / 1e6,
                }
            )
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)


def large(count: int, workdir: Path, files: int) -> None:
    # RSS counts pages shared with other processes: the registry's pages are the page cache's,
    # mapped by every worker (the kernel maps 64 KB around each fault). What a worker adds is
    # its private memory; the registry mapping's share of it should be nothing.
    keys = synthetic(count, seed=3)
    sources = write_ftc_files(keys, workdir / "ftc", files)
    del keys
    gc.collect()
    started = time.perf_counter()
    parsed = parse_nanp(sources)
    parse_seconds = time.perf_counter() - started
    path = workdir / "large" / "us_ftc.cgreg"
    header = build(str(path), name="us_ftc", kind=RegistryKind.NANP, keys=parsed, regions={"US"}, as_of=time.time())
    total = time.perf_counter() - started
    lines = len(parsed)
    sample = parsed[:: max(1, lines // 1_000_000)]
    del parsed
    gc.collect()
    shutil.rmtree(workdir / "ftc")
    registry = RegistryFile(str(path))
    queries = fresh_queries(sample, seed=4, batches=20)
    time_lookups(registry.probe, queries[:2])
    lookup_ns = time_lookups(registry.probe, queries)
    print(f"\n-- {lines / 1e6:.0f} M lines of FTC downloads ({header.count / 1e6:.1f} M distinct numbers) in {files} files")
    print(f"build {total:.1f} s ({lines / total / 1e6:.1f} M numbers/s; parsing {parse_seconds:.1f} s), target >= 5 M/s")
    print(f"file {path.stat().st_size / 1e6:.0f} MB (target < 500 MB); lookup median {lookup_ns:.0f} ns (target < 500 ns)")
    for worker_count in (1, 2):
        measured = workers(path.parent, worker_count, 18700 + worker_count, sample)
        for w in measured:
            print(
                f"{worker_count} worker(s): pid {w['pid']:>7} RSS {w['rss_mb']:6.1f} MB, "
                f"private (USS) {w['uss_mb']:5.1f} MB; registry mapping: "
                f"{w['registry_rss_mb']:5.1f} MB resident, {w['registry_private_mb']:.2f} MB private, "
                f"{w['registry_shared_mb']:5.1f} MB shared"
            )
    # The baseline: the same two workers with no registry file. What the registry costs each
    # further worker is the difference in private memory (RSS would count the shared pages).
    (workdir / "no-registries").mkdir()
    baseline = workers(workdir / "no-registries", 2, 18703, sample)
    with_registry = statistics.mean(w["uss_mb"] for w in measured)
    without = statistics.mean(w["uss_mb"] for w in baseline)
    print(
        f"a second worker's private memory: {with_registry:.1f} MB serving the registry, {without:.1f} MB with no registry file: "
        f"the registry adds {with_registry - without:+.1f} MB per worker (target < 5 MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000_000)
    parser.add_argument("--large", type=int, default=262_000_000, help="lines to generate (262 M give ~250 M distinct numbers)")
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} CPUs, {len(EXCHANGES):,} US exchanges")
    with tempfile.TemporaryDirectory(prefix="callguard-registry-bench-") as tmp:
        small(args.small, Path(tmp))
        if not args.skip_large:
            large(args.large, Path(tmp), args.files)


if __name__ == "__main__":
    main()
