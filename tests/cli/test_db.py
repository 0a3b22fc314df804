"""``callguard db …``: the schema migrations from the command line (callguard.cli.db)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from callguard.cli import main
from callguard.store import create_database_engine
from callguard.store.migrate import head_revision


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_upgrade_current_and_check(sqlite_url: str) -> None:
    shown = sqlite_url
    code, _, err = run("db", "current", "--database-url", sqlite_url)
    assert code == 1
    assert err == f"callguard: {shown}: revision none, this callguard needs {head_revision()}: run `callguard db upgrade`\n"
    assert run("db", "upgrade", "--database-url", sqlite_url)[:2] == (0, f"{shown}: upgraded from nothing to revision {head_revision()}\n")
    assert run("db", "upgrade", "--database-url", sqlite_url)[:2] == (0, f"{shown}: already at revision {head_revision()}\n")
    assert run("db", "current", "--database-url", sqlite_url)[:2] == (0, f"{shown}: revision {head_revision()} (up to date)\n")
    assert run("db", "check", "--database-url", sqlite_url)[:2] == (0, f"{shown}: the schema matches this callguard's tables\n")

    engine = create_database_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_callguard_decisions_e164"))
    engine.dispose()
    code, out, err = run("db", "check", "--database-url", sqlite_url)
    assert code == 1
    assert out == "  add_index ix_callguard_decisions_e164 on callguard_decisions\n"
    assert err == f"callguard: {shown}: 1 differences from this callguard's tables\n"


def test_history_lists_the_shipped_migrations() -> None:
    code, out, _ = run("db", "history")
    assert code == 0 and out.splitlines()[-1].startswith("<base> -> 0001  Baseline")
    assert out.splitlines()[0].split()[2] == head_revision()


def test_a_bad_database_url_is_one_line() -> None:
    code, _, err = run("db", "upgrade", "--database-url", "oracle://somewhere")
    assert code == 2 and err == "callguard: CALLGUARD_DATABASE_URL: unsupported database 'oracle': use sqlite:/// or postgresql://\n"


@pytest.mark.postgres
def test_serve_refuses_a_postgresql_schema_behind_the_code_with_one_line(policy_path: Path, postgres_url: str, tmp_path: Path) -> None:
    served = subprocess.run(
        [sys.executable, "-m", "callguard.cli", "serve", "--policy", str(policy_path), "--bind", "127.0.0.1:1"],
        env={"CALLGUARD_DATABASE_URL": postgres_url, "TWILIO_AUTH_TOKEN": "x" * 32, "TWILIO_AUTH_TOKEN_TENANT": "y" * 32, "PATH": ""},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert served.returncode == 2
    assert served.stderr.splitlines()[-1] == (
        f"callguard: CALLGUARD_DATABASE_URL: the database has no callguard schema (this callguard needs revision {head_revision()}): "
        "run `callguard db upgrade`, or set CALLGUARD_AUTO_MIGRATE=true"
    )


def test_prune_deletes_expired_decisions_and_a_dry_run_only_counts(database_url: str, policy_path: Path) -> None:
    from callguard import DialRequest, FakeClock, Guard
    from callguard.policy.loader import load_policy
    from callguard.store import SqlAuditLog, ensure_schema

    from ..conftest import MAIN

    engine = create_database_engine(database_url)
    ensure_schema(engine)
    clock = FakeClock(1_500_000_000.0)  # 2017: long expired, and a month no partition takes (PostgreSQL's default partition)
    guard = Guard(load_policy(policy_path), clock=clock, audit=SqlAuditLog(engine))
    for i in range(3):
        guard.check(DialRequest(MAIN, "+14155550123", "+14155550100", call_sid=f"CA-old-{i}"))
    engine.dispose()
    shown = database_url  # no password to hide

    code, out, _ = run("db", "prune", "--database-url", database_url, "--dry-run")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith(f"{shown}: decisions made before 20") and lines[0].endswith(" have expired (retention 5y)")
    assert lines[1].startswith(f"{shown}: ") and lines[1].endswith("would delete 3 rows")
    code, out, _ = run("db", "prune", "--database-url", database_url)
    assert code == 0 and out.splitlines()[1].endswith("deleted 3 rows in 1 batch")
    assert run("db", "prune", "--database-url", database_url, "--dry-run")[1].splitlines()[1].endswith("would delete 0 rows")
    code, out, _ = run("db", "prune", "--database-url", database_url, "--retention", "forever")
    assert code == 0 and out.splitlines()[-1].endswith("every decision is kept (retention forever)")


def test_prune_refuses_a_bad_retention_and_says_when_another_run_holds_the_lease(sqlite_url: str) -> None:
    from callguard.store import ensure_schema
    from callguard.store.audit.pruning import LEASE
    from callguard.store.leases import LeaseStore

    code, _, err = run("db", "prune", "--database-url", sqlite_url, "--retention", "5 years")
    assert code == 2 and err == "callguard: --retention: expected a duration such as 5y, 400d, 36h or seconds, or forever, got '5 years'\n"
    engine = create_database_engine(sqlite_url)
    ensure_schema(engine)
    LeaseStore(engine).acquire(LEASE, "host-a:1", now=time.time(), hold_for=600)
    engine.dispose()
    code, _, err = run("db", "prune", "--database-url", sqlite_url)
    assert code == 1 and err == f"callguard: {sqlite_url}: nothing pruned: a run is in progress in host-a:1\n"


def test_prune_needs_the_schema_at_this_callguards_revision(sqlite_url: str) -> None:
    code, _, err = run("db", "prune", "--database-url", sqlite_url)
    assert code == 1 and err.startswith("callguard: CALLGUARD_DATABASE_URL: the database has no callguard schema")
