"""Disk a decision takes in the audit log, and what pruning costs (issue 19: retention).

    python benchmarks/audit_disk.py [--rows 200000] [--postgres-url URL] [--skip-postgres]

Writes ``--rows`` decisions through the audit log's own writer (``BatchingAuditLog``, flushed
every 500 rows as the background writer does) into a fresh SQLite file and a fresh PostgreSQL
schema, decided by ``Guard.check`` over a 12-country mix of unique numbers, one in ten refused,
at 100 calls a second of simulated time, and prints:

1. bytes a row on disk, the table and its four indexes apart (SQLite: ``dbstat``, the growth of
   the file; PostgreSQL: ``pg_table_size`` and ``pg_indexes_size`` after ``VACUUM``), and what a
   year of decisions takes at 10 and at 100 calls a second;
2. on PostgreSQL, the same rows in the plain table (revision 0003) and then partitioned by
   migration 0004, and how long that migration took;
3. pruning them all: on SQLite, batches of 500 rows (how long each holds the write lock); on
   PostgreSQL, dropping the month's partition.

Makes and removes its own temporary directory and PostgreSQL schema.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from decide import POLICY, unique_numbers  # noqa: E402
from sqlalchemy import text  # noqa: E402

from callguard import DialRequest, FakeClock, Guard  # noqa: E402
from callguard.policy.loader import parse_policy  # noqa: E402
from callguard.retention import parse_retention  # noqa: E402
from callguard.store import BatchingAuditLog, SqlAuditLog, create_database_engine, ensure_schema  # noqa: E402
from callguard.store.audit.pruning import BATCH_ROWS, AuditPruner  # noqa: E402
from callguard.store.migrate import _config  # noqa: E402

ACCOUNT = "AC00000000000000000000000000000001"
CALLER_ID = "+14155550100"
REFUSED = ["+18765550123", "+2399912345", "+882345678901"]  # Jamaica, São Tomé, an international network: not permitted
YEAR = 365 * 86_400
START = datetime(2031, 3, 1, tzinfo=UTC).timestamp()  # a month of its own on PostgreSQL


def write_decisions(engine: object, rows: int, seed: int = 7) -> float:
    """``rows`` decisions written by the batching writer; returns the seconds the writes took."""
    import tomllib

    rng = random.Random(seed)
    numbers = unique_numbers(min(rows, 20_000), seed=seed)
    clock = FakeClock(START)
    writer = BatchingAuditLog(SqlAuditLog(engine), max_batch=500)  # type: ignore[arg-type]
    guard = Guard(parse_policy(tomllib.loads(POLICY), source="benchmark"), clock=clock, audit=writer)
    writing = 0.0
    for i in range(rows):
        to = rng.choice(REFUSED) if rng.random() < 0.1 else numbers[i % len(numbers)]
        guard.check(DialRequest(ACCOUNT, to, CALLER_ID, call_sid="CA" + uuid.UUID(int=rng.getrandbits(128)).hex, source="webhook"))
        clock.advance(0.01)  # 100 calls a second
        if (i + 1) % 500 == 0:
            started = time.perf_counter()
            writer.flush()
            writing += time.perf_counter() - started
    started = time.perf_counter()
    writer.close()
    return writing + time.perf_counter() - started


def per_year(bytes_per_row: float) -> str:
    return ", ".join(f"{rate} calls/s: {bytes_per_row * rate * YEAR / 1e9:,.0f} GB a year" for rate in (10, 100))


def sqlite(rows: int, directory: Path) -> None:
    path = directory / "audit.db"
    engine = create_database_engine(f"sqlite:///{path}")
    ensure_schema(engine)

    def sizes() -> tuple[int, dict[str, int]]:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            parts = dict(conn.exec_driver_sql(
                "SELECT name, SUM(pgsize) FROM dbstat WHERE name LIKE '%callguard_decisions%' GROUP BY name"
            ).fetchall())
        return path.stat().st_size, parts

    empty_file, empty = sizes()
    seconds = write_decisions(engine, rows)
    full_file, full = sizes()
    table = (full["callguard_decisions"] - empty["callguard_decisions"]) / rows
    indexes = sum(full[n] - empty.get(n, 0) for n in full if n != "callguard_decisions") / rows
    per_row = (full_file - empty_file) / rows
    print(f"SQLite: {rows} rows written in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")
    print(f"  bytes a row: {per_row:.0f} (table {table:.0f}, indexes {indexes:.0f}); {per_year(per_row)}")

    marks: list[float] = []
    expired_all = FakeClock(START + 30 * 86_400)
    pruner = AuditPruner(engine, parse_retention("1h"), clock=expired_all, sleep=lambda _s: marks.append(time.perf_counter()), pause=0.0,
                         holder="benchmark")
    started = time.perf_counter()
    report = pruner.run_to_the_end()
    elapsed = time.perf_counter() - started
    held = [b - a for a, b in zip([started, *marks], marks, strict=False)]  # a batch: from the end of one pause to the next
    print(f"  prune: {report.deleted} rows in {report.batches} batches, {elapsed:.1f} s ({report.deleted / elapsed:,.0f} rows/s); "
          f"a batch of {BATCH_ROWS} holds the write lock {statistics.median(held) * 1000:.0f} ms (median), "
          f"{max(held) * 1000:.0f} ms (longest)")
    engine.dispose()


def postgres(rows: int, server_url: str) -> None:
    import psycopg

    schema = f"cg_bench_{uuid.uuid4().hex[:8]}"
    separator = "&" if "?" in server_url else "?"
    url = f"{server_url}{separator}{urlencode({'options': f'-csearch_path={schema}'})}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    engine = create_database_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(_config(conn), "0003")

        def sizes() -> tuple[int, int]:
            with engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql("VACUUM ANALYZE callguard_decisions")
                tables = conn.execute(text(
                    "SELECT coalesce(sum(pg_table_size(c.oid)), 0), coalesce(sum(pg_indexes_size(c.oid)), 0) FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
                    " AND c.relkind = 'r' AND c.relname LIKE 'callguard_decisions%'"
                )).one()
            return int(tables[0]), int(tables[1])

        empty_table, empty_indexes = sizes()
        seconds = write_decisions(engine, rows)
        table, indexes = sizes()
        plain = ((table - empty_table) / rows, (indexes - empty_indexes) / rows)
        print(f"PostgreSQL: {rows} rows written in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")
        print(f"  plain table (revision 0003): bytes a row {sum(plain):.0f} (table {plain[0]:.0f}, indexes {plain[1]:.0f})")

        started = time.perf_counter()
        ensure_schema(engine)
        migrated = time.perf_counter() - started
        with engine.connect() as conn:
            empties = conn.execute(text(
                "SELECT coalesce(sum(pg_table_size(c.oid) + pg_indexes_size(c.oid)), 0) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                " AND c.relname LIKE 'callguard_decisions%' AND NOT EXISTS (SELECT 1 FROM callguard_decisions d WHERE d.tableoid = c.oid)"
            )).scalar_one()
        table, indexes = sizes()
        per_row = (table + indexes - int(empties)) / rows
        print(f"  migration 0004 (partition by month, copy every row): {migrated:.1f} s ({migrated / rows * 1e6:.1f} s a million rows)")
        print(f"  partitioned: bytes a row {per_row:.0f} (the empty partitions apart); {per_year(per_row)}")

        pruner = AuditPruner(engine, parse_retention("1h"), clock=FakeClock(START + 62 * 86_400), holder="benchmark")
        started = time.perf_counter()
        report = pruner.run()
        print(f"  prune: dropped {', '.join(report.dropped)} in {(time.perf_counter() - started) * 1000:.0f} ms "
              f"(made {len(report.created)} partitions ahead in the same run)")
    finally:
        engine.dispose()
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="cg-audit-disk-"))
    try:
        sqlite(args.rows, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    if not args.skip_postgres:
        postgres(args.rows, args.postgres_url)


if __name__ == "__main__":
    main()
