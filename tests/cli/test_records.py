"""``callguard optout`` and ``callguard consent`` (callguard.cli.records)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from callguard.cli import main
from callguard.store import create_database_engine
from callguard.store.consents import ConsentStore
from callguard.store.optouts import OptOutStore

from ..conftest import BASE_POLICY, MAIN, TENANT


@pytest.fixture
def policy_path(write_policy: Callable[..., Path]) -> Path:
    """The shared test policy, with the campaign these opt-outs and consents name."""
    return write_policy(BASE_POLICY + '\n[campaigns.spring]\npurpose = "informational"\n')


def run(policy_path: Path, sqlite_url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "--policy", str(policy_path), "--database-url", sqlite_url])
    return result.exit_code, result.stdout, result.stderr


def test_add_list_remove(policy_path: Path, sqlite_url: str) -> None:
    code, out, _ = run(policy_path, sqlite_url, "optout", "add", "(415) 555-0123", "--account", TENANT, "--note", "asked by email")
    assert code == 0 and out.strip() == f"+14155550123: opted out (account family {MAIN}, every campaign)"
    assert run(policy_path, sqlite_url, "optout", "add", "+14155550123", "--account", MAIN)[1].strip().endswith(
        "already opted out (account family " + MAIN + ", every campaign)"
    )
    code, out, _ = run(policy_path, sqlite_url, "optout", "list", "--account", MAIN)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["number"], r["account_sid"], r["campaign"], r["source"], r["note"]) for r in rows] == [
        ("+14155550123", MAIN, "*", "admin", "asked by email")
    ]
    assert run(policy_path, sqlite_url, "optout", "remove", "+14155550123", "--account", MAIN)[0] == 0
    code, _, err = run(policy_path, sqlite_url, "optout", "remove", "+14155550123", "--account", MAIN)
    assert code == 1 and "no opt-out" in err


def test_bad_numbers_and_accounts_are_one_line(policy_path: Path, sqlite_url: str) -> None:
    code, _, err = run(policy_path, sqlite_url, "optout", "add", "12345", "--account", MAIN)
    assert code == 2 and err == "callguard: NUMBER: '12345' is not a valid phone number (read with region US)\n"
    code, _, err = run(policy_path, sqlite_url, "optout", "add", "+14155550123", "--account", "AC" + "9" * 32)
    assert code == 2 and "is not an account in" in err


def test_import_is_all_or_nothing_unless_told_to_skip(policy_path: Path, sqlite_url: str, tmp_path: Path) -> None:
    good = tmp_path / "list.csv"
    good.write_text("number,campaign\n+14155550101\n4155550102,spring\n\n# a comment\n+14155550101\n", encoding="utf-8")
    code, out, _ = run(policy_path, sqlite_url, "optout", "import", str(good), "--account", MAIN)
    assert code == 0 and out.strip() == f"{good}: 2 opt-outs added, 1 already present, 0 lines skipped"

    bad = tmp_path / "bad.txt"
    bad.write_text("+14155550103\nnot-a-number\n+14155550104\n", encoding="utf-8")
    code, _, err = run(policy_path, sqlite_url, "optout", "import", str(bad), "--account", MAIN)
    assert code == 2 and err == f"callguard: {bad}:2: 'not-a-number' is not a valid phone number (read with region US)\n"
    store = OptOutStore(create_database_engine(sqlite_url))
    assert store.find("+14155550103", MAIN, None) is None  # nothing from the failed import

    code, out, err = run(policy_path, sqlite_url, "optout", "import", str(bad), "--account", MAIN, "--skip-bad-lines")
    assert code == 0 and "2 opt-outs added, 0 already present, 1 lines skipped" in out and f"{bad}:2" in err
    assert store.find("+14155550103", MAIN, None) is not None


def test_export_round_trips_through_import(policy_path: Path, sqlite_url: str, tmp_path: Path) -> None:
    run(policy_path, sqlite_url, "optout", "add", "+14155550101", "--account", MAIN)
    run(policy_path, sqlite_url, "optout", "add", "+14155550102", "--account", MAIN, "--campaign", "spring")
    code, out, _ = run(policy_path, sqlite_url, "optout", "export")
    exported = tmp_path / "export.csv"
    exported.write_text(out, encoding="utf-8")
    other = f"sqlite:///{tmp_path / 'other.db'}"
    code, out, _ = run(policy_path, other, "optout", "import", str(exported), "--account", MAIN)
    assert code == 0 and "2 opt-outs added" in out
    restored = OptOutStore(create_database_engine(other)).list()
    assert [(o.number, o.campaign) for o in restored] == [("+14155550101", "*"), ("+14155550102", "spring")]


def test_non_utf8_import_files(policy_path: Path, sqlite_url: str, tmp_path: Path) -> None:
    latin = tmp_path / "latin1.txt"
    latin.write_bytes(b"+14155550101\n\xe9\n")
    code, _, err = run(policy_path, sqlite_url, "optout", "import", str(latin), "--account", MAIN)
    assert code == 2 and err == f"callguard: {latin}: not UTF-8 text\n"


def test_consent_commands(policy_path: Path, sqlite_url: str) -> None:
    code, out, _ = run(
        policy_path, sqlite_url, "consent", "add", "+14155550123", "--account", TENANT, "--obtained-at", "2026-05-01T12:00:00Z",
        "--expires", "2027-05-01", "--evidence", "https://crm.example.com/consents/7",
    )
    assert code == 0 and out.startswith("consent 1: +14155550123 (prior_express_written, every campaign)")
    (consent,) = ConsentStore(create_database_engine(sqlite_url)).list()
    assert consent.account_sid == MAIN and consent.evidence == "https://crm.example.com/consents/7"
    code, out, _ = run(policy_path, sqlite_url, "consent", "list", "--account", MAIN)
    assert "2026-05-01T12:00:00+00:00" in out and "2027-05-01T00:00:00+00:00" in out
    assert run(policy_path, sqlite_url, "consent", "revoke", "1")[0] == 0
    code, _, err = run(policy_path, sqlite_url, "consent", "revoke", "1")
    assert code == 1 and "already revoked" in err
    code, _, err = run(policy_path, sqlite_url, "consent", "add", "+14155550123", "--account", MAIN, "--obtained-at", "yesterday")
    assert code == 2 and "--obtained-at: 'yesterday' is not an ISO 8601" in err


def test_a_campaign_the_policy_lacks_is_refused(policy_path: Path, sqlite_url: str, tmp_path: Path) -> None:
    message = f"callguard: --campaign: 'nope' is not a campaign in {policy_path} (its campaigns: spring)\n"
    for args in (
        ("optout", "add", "+14155550123", "--account", MAIN, "--campaign", "nope"),
        ("optout", "remove", "+14155550123", "--account", MAIN, "--campaign", "nope"),
        ("consent", "add", "+14155550123", "--account", MAIN, "--obtained-at", "2026-05-01", "--campaign", "nope"),
    ):
        code, out, err = run(policy_path, sqlite_url, *args)
        assert (code, out, err) == (2, "", message), args
    lines = tmp_path / "lines.csv"
    lines.write_text("+14155550101,spring\n+14155550102,nope\n", encoding="utf-8")
    code, _, err = run(policy_path, sqlite_url, "optout", "import", str(lines), "--account", MAIN)
    assert code == 2 and err == f"callguard: {lines}:2: 'nope' is not a campaign in {policy_path}\n"
    assert OptOutStore(create_database_engine(sqlite_url)).list() == []  # nothing from the failed import


def test_list_reads_the_number_as_add_does(policy_path: Path, sqlite_url: str) -> None:
    run(policy_path, sqlite_url, "optout", "add", "(415) 555-0123", "--account", MAIN)
    run(policy_path, sqlite_url, "consent", "add", "(415) 555-0123", "--account", MAIN, "--obtained-at", "2026-05-01")
    for command in ("optout", "consent"):
        for args in (("--number", "(415) 555-0123"), ("--number", "415.555.0123", "--account", TENANT)):
            code, out, _ = run(policy_path, sqlite_url, command, "list", *args)
            assert code == 0 and [r["number"] for r in csv.DictReader(io.StringIO(out))] == ["+14155550123"], (command, args)
        code, out, err = run(policy_path, sqlite_url, command, "list", "--number", "555-0123")
        assert (code, out) == (2, "") and err == "callguard: --number: '555-0123' is not a valid phone number (read with region US)\n"


def test_exports_write_formulas_as_text(policy_path: Path, sqlite_url: str) -> None:
    """A note (or any cell) beginning like a formula reaches a spreadsheet as text; numbers stay numbers."""
    assert run(policy_path, sqlite_url, "optout", "add", "+14155550123", "--account", MAIN, "--note", "=HYPERLINK(\"x\")")[0] == 0
    code, out, _ = run(policy_path, sqlite_url, "optout", "list", "--account", MAIN)
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert row["note"] == "'=HYPERLINK(\"x\")" and row["number"] == "+14155550123"
    added = run(
        policy_path, sqlite_url, "consent", "add", "+14155550124", "--account", MAIN, "--obtained-at", "2026-05-01",
        "--evidence", "@SUM(1+1)",
    )
    assert added[0] == 0, added
    code, out, _ = run(policy_path, sqlite_url, "consent", "list", "--account", MAIN)
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert row["evidence"] == "'@SUM(1+1)"


def test_a_date_outside_the_years_a_date_holds_is_bad_usage(policy_path: Path, sqlite_url: str) -> None:
    code, _, err = run(
        policy_path, sqlite_url, "consent", "add", "+14155550124", "--account", MAIN, "--obtained-at", "0001-01-01T00:00:00+14:00"
    )
    assert code == 2 and "--obtained-at" in err and "outside years 1 to 9999" in err
