"""``callguard sync`` against the Twilio double (callguard.cli.sync)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from callguard.cli import main
from callguard.store import create_database_engine
from callguard.store.leases import LeaseStore
from callguard.store.twilio_snapshots import TwilioSnapshotStore
from callguard.sync.runner import LEASE

from ..conftest import MAIN, MAIN_TOKEN, STRANGER, TENANT, TENANT_TOKEN
from ..sync.twilio_double import TwilioDouble


def run(policy: Path, database_url: str, *args: str, **env: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["sync", "--policy", str(policy), "--database-url", database_url, *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def credentials(double: TwilioDouble, **more: str) -> dict[str, str]:
    return {"TWILIO_AUTH_TOKEN": MAIN_TOKEN, "TWILIO_AUTH_TOKEN_TENANT": TENANT_TOKEN, "CALLGUARD_TWILIO_BASE_URL": double.url, **more}


def test_sync_reads_twilio_and_stores_it_for_every_worker(sync_policy_path: Path, sqlite_url: str, double: TwilioDouble) -> None:
    code, out, err = run(sync_policy_path, sqlite_url, **credentials(double))
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"Main ({MAIN}): synced: owned numbers: 5, verified caller IDs: 1, countries open: 4 of 6, status active",
        f"Tenant ({TENANT}): synced: owned numbers: 1, verified caller IDs: 0, countries open: 2 of 3, status active",
    ]
    snapshot = TwilioSnapshotStore(create_database_engine(sqlite_url)).load()
    assert snapshot.version == 1 and "+14155550104" in snapshot.accounts[MAIN].incoming_numbers


def test_twilio_refusing_the_credentials_is_one_line_per_account(sync_policy_path: Path, sqlite_url: str, double: TwilioDouble) -> None:
    code, out, err = run(sync_policy_path, sqlite_url, **credentials(double, TWILIO_AUTH_TOKEN="not-the-token"))
    assert code == 1 and out == ""
    failure = f"{MAIN}: /2010-04-01/Accounts.json: Twilio answered 401 (20003: Authenticate)"
    assert err.splitlines() == [f"callguard: {failure}", f"callguard: {TENANT}: not tried after {failure}"]


def test_one_family_only(sync_policy_path: Path, sqlite_url: str, double: TwilioDouble) -> None:
    code, out, _ = run(sync_policy_path, sqlite_url, "--account", TENANT, **credentials(double))
    assert code == 0 and len(out.splitlines()) == 2  # the tenant's family is the main account's
    code, _, err = run(sync_policy_path, sqlite_url, "--account", STRANGER, **credentials(double))
    assert code == 2 and err == f"callguard: --account: {STRANGER} is not an account in {sync_policy_path}\n"


def test_nothing_to_sync_or_a_bad_setting_is_a_usage_error(
    policy_path: Path, sync_policy_path: Path, sqlite_url: str, double: TwilioDouble
) -> None:
    code, _, err = run(policy_path, sqlite_url, **credentials(double))
    assert code == 2 and err == 'callguard: nothing synced: no account has twilio = "mirror" or "stricter"\n'
    code, _, err = run(sync_policy_path, sqlite_url, **credentials(double, CALLGUARD_TWILIO_BASE_URL="ftp://x"))
    assert code == 2 and err == "callguard: CALLGUARD_TWILIO_BASE_URL: 'ftp://x' is not an http(s) URL\n"


def test_a_sync_in_progress_elsewhere_is_left_alone(sync_policy_path: Path, sqlite_url: str, double: TwilioDouble) -> None:
    import time

    engine = create_database_engine(sqlite_url)
    run(sync_policy_path, sqlite_url, **credentials(double))  # creates the schema
    assert LeaseStore(engine).acquire(LEASE, "host-b:42", now=time.time(), hold_for=900, force=True)
    code, _, err = run(sync_policy_path, sqlite_url, **credentials(double))
    assert code == 1 and err == "callguard: nothing synced: a sync is in progress in host-b:42\n"


def test_callguard_check_decides_on_the_picture_sync_stored(sync_policy_path: Path, sqlite_url: str, double: TwilioDouble) -> None:
    def check() -> tuple[int, str]:
        args = ["check", "--account", MAIN, "--from", "+14155550104", "--to", "+14155550123", "--no-audit"]
        result = CliRunner().invoke(main, [*args, "--policy", str(sync_policy_path), "--database-url", sqlite_url])
        return result.exit_code, result.stdout.splitlines()[0]

    assert check() == (1, "reject  twilio.not_synced, geo.low_risk, callerid.not_owned")
    assert run(sync_policy_path, sqlite_url, **credentials(double))[0] == 0
    assert check() == (0, "connect  ok")
