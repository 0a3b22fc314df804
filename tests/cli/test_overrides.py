"""``callguard suspend|resume|block`` (callguard.cli.overrides)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from callguard.store import create_database_engine

from ..conftest import MAIN
from .invoke import run


def test_suspend_resume_and_blocks(policy_path: Path, sqlite_url: str) -> None:
    from callguard.store.overrides import OverrideStore

    def cli(*args: str) -> tuple[int, str, str]:
        return run(*args, "--policy", str(policy_path), "--database-url", sqlite_url)

    assert cli("suspend", MAIN, "--reason", "toll fraud", "--actor", "alice") == (0, f"{MAIN}: suspended (toll fraud)\n", "")
    assert cli("resume", MAIN, "--actor", "alice")[0] == 0
    code, _, err = cli("suspend", "AC" + "9" * 32, "--reason", "x")
    assert code == 2 and "is not an account" in err
    code, out, _ = cli("block", "add", "+2474", "--reason", "investigation", "--expires", "2027-01-01T00:00:00Z", "--actor", "bob")
    assert code == 0 and out.startswith("block 1: +2474 (every account): investigation")
    assert cli("block", "add", "2474", "--reason", "x")[0] == 2
    assert "+2474" in cli("block", "list")[1]
    assert cli("block", "lift", "1")[0] == 0 and cli("block", "lift", "1")[0] == 1
    store = OverrideStore(create_database_engine(sqlite_url))
    assert [(c.actor, c.action) for c in store.changes()][-2:] == [("alice", "resume"), ("alice", "suspend")]


def test_block_list_has_a_header(policy_path: Path, sqlite_url: str) -> None:
    def cli(*args: str) -> str:
        code, out, err = run(*args, "--policy", str(policy_path), "--database-url", sqlite_url)
        assert code == 0, err
        return out

    assert cli("block", "list") == "id\tprefix\taccount\texpires\tcreated_by\treason\n"
    cli("block", "add", "+2474", "--reason", "investigation", "--actor", "bob")
    rows = list(csv.DictReader(io.StringIO(cli("block", "list")), delimiter="\t"))
    assert [(r["id"], r["prefix"], r["account"], r["expires"], r["created_by"], r["reason"]) for r in rows] == [
        ("1", "+2474", "*", "-", "bob", "investigation")
    ]
