"""``callguard db …``: the schema migrations from the command line (callguard.cli.db)."""

from __future__ import annotations

import subprocess
import sys
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
