"""One sync run against the Twilio double, stored on SQLite and PostgreSQL (callguard.sync.runner, .scheduler)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from callguard import FakeClock, load_policy
from callguard.policy import Policy
from callguard.runtime.twilio_sync import count_account_error, count_run
from callguard.store import create_database_engine
from callguard.store.leases import LeaseStore
from callguard.store.twilio_snapshots import TwilioSnapshotStore
from callguard.sync.reader import TwilioReader
from callguard.sync.runner import LEASE, TwilioSync, synced_families
from callguard.sync.scheduler import SyncScheduler

from ..conftest import GRANDCHILD, MAIN, MAIN_NUMBERS, MAIN_VERIFIED, MANCHESTER_DRAMA, OUTSIDER, SYNC_POLICY, TENANT
from .twilio_double import FakeAccount, TwilioDouble

INTERVAL = 300.0



@pytest.fixture
def policy(sync_policy_path: Path) -> Policy:
    return load_policy(sync_policy_path)


@pytest.fixture
def runner(engine: Any, reader: TwilioReader, sync_config: dict[str, str], clock: FakeClock) -> TwilioSync:
    return TwilioSync(
        TwilioSnapshotStore(engine), LeaseStore(engine), reader, config=sync_config, clock=clock, interval=INTERVAL, holder="test",
        on_run=count_run, on_account_error=count_account_error,  # the runtime's metrics
    )


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_run_reads_every_synced_account_and_stores_it(runner: TwilioSync, policy: Policy, double: TwilioDouble, clock: FakeClock) -> None:
    double.max_page_size = 2  # every listing takes several pages
    runs = metric("callguard_twilio_sync_runs_total", outcome="ok")
    report = runner.run(policy)
    assert report.ok and [o.sid for o in report.outcomes] == [MAIN, TENANT]
    assert report.outcomes[0].summary == "owned numbers: 5, verified caller IDs: 1, countries open: 4 of 6, status active"
    snapshot = runner.store.load()
    main, tenant = snapshot.accounts[MAIN], snapshot.accounts[TENANT]
    assert main.caller_ids == set(MAIN_NUMBERS) | set(MAIN_VERIFIED) and main.synced_at == clock()
    assert tenant.incoming_numbers == {"+442079460000"} and not tenant.inherits_permissions
    assert [c.iso_code for c in tenant.countries or ()] == ["DE", "FR", "GB"]
    assert snapshot.accounts[OUTSIDER].synced_at is None and snapshot.accounts[OUTSIDER].status == "active"  # listed only
    assert snapshot.special_prefixes == {MANCHESTER_DRAMA: "GB", "+4490": "GB"}
    # The subaccount's Voice settings were read with the auth token the parent's Accounts list gave.
    assert {s.user for s in double.requests("^/v1/") if s.path in ("/v1/Settings",)} == {TENANT}
    assert metric("callguard_twilio_sync_runs_total", outcome="ok") == runs + 1
    # Prefixes only for the countries some member may call (GB, US, SG, FR for MAIN; GB, DE for TENANT).
    assert sorted(s.path.split("/")[4] for s in double.requests("HighRiskSpecialPrefixes")) == ["DE", "FR", "GB", "SG", "US"]


def test_a_subaccount_that_inherits_is_not_asked_for_its_countries(runner: TwilioSync, policy: Policy, double: TwilioDouble) -> None:
    double.accounts[TENANT].inherits_permissions = True
    assert runner.run(policy).ok
    snapshot = runner.store.load()
    assert snapshot.accounts[TENANT].inherits_permissions and snapshot.countries_for(TENANT) == snapshot.accounts[MAIN].countries
    assert [s.user for s in double.requests("DialingPermissions/Countries$")] == [MAIN]


def test_an_api_key_reads_the_main_account(
    runner: TwilioSync, double: TwilioDouble, write_policy: Any, sync_config: dict[str, str]
) -> None:
    double.api_keys["SK" + "0" * 32] = ("key-secret", MAIN)
    text = SYNC_POLICY.replace(
        'twilio = "mirror"', 'twilio = "mirror"\ntwilio_api_key_env = "MAIN_KEY"\ntwilio_api_secret_env = "MAIN_SECRET"'
    )
    policy = load_policy(write_policy(text, "keys.toml"))
    sync_config.update(MAIN_KEY="SK" + "0" * 32, MAIN_SECRET="key-secret")
    report = runner.run(policy)
    assert report.ok, report.outcomes
    assert double.requests(r"/Accounts\.json$")[0].user == "SK" + "0" * 32
    # Without the parent's auth token the Accounts list carries no subaccount tokens: the subaccount's own is used.
    assert {s.user for s in double.requests("^/v1/Settings")} == {TENANT}


def test_an_unset_credential_variable_fails_that_family_in_one_line(
    runner: TwilioSync, policy: Policy, sync_config: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sync_config.pop("TWILIO_AUTH_TOKEN")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    report = runner.run(policy)
    assert not report.ok and {o.error.kind for o in report.outcomes if o.error} == {"config"}
    assert str(report.outcomes[0].error) == f"{MAIN}: twilio credentials: the environment variable TWILIO_AUTH_TOKEN is not set"


def test_a_subaccount_twilio_does_not_list_is_an_error_of_its_own(runner: TwilioSync, policy: Policy, double: TwilioDouble) -> None:
    del double.accounts[TENANT]
    report = runner.run(policy)
    assert report.outcome == "partial"
    assert report.outcomes[0].ok and report.outcomes[1].error is not None and report.outcomes[1].error.kind == "not_found"
    assert runner.store.load().accounts[TENANT].last_error == f"{TENANT}: Twilio does not list it among the subaccounts of {MAIN}"


def test_an_outage_keeps_the_last_good_picture_and_records_why(
    runner: TwilioSync, policy: Policy, double: TwilioDouble, clock: FakeClock, sleeps: list[float]
) -> None:
    assert runner.run(policy).ok
    before = runner.store.load()
    clock.advance(INTERVAL)
    errors = metric("callguard_twilio_sync_errors_total", kind="unreachable")
    double.down()
    report = runner.run(policy)
    assert report.outcome == "failed"
    assert [o.error.kind for o in report.outcomes if o.error] == ["unreachable", "unreachable"]
    assert len(sleeps) == 3  # one request's retries: after the first failure the family is not tried further
    after = runner.store.load()
    assert after.version == before.version + 1
    main = after.accounts[MAIN]
    assert main.caller_ids == before.accounts[MAIN].caller_ids and main.synced_at == before.accounts[MAIN].synced_at
    assert main.last_error == f"{MAIN}: /2010-04-01/Accounts.json: Twilio unreachable (ConnectionError) after 4 attempts"
    assert metric("callguard_twilio_sync_errors_total", kind="unreachable") == errors + 2


def test_a_rate_limited_member_stops_the_family_for_this_run(
    runner: TwilioSync, policy: Policy, double: TwilioDouble, sleeps: list[float]
) -> None:
    double.fail(f"Accounts/{TENANT}/IncomingPhoneNumbers", 429, times=10, retry_after="2")
    report = runner.run(policy)
    assert report.outcome == "partial" and report.outcomes[0].ok
    error = report.outcomes[1].error
    assert error is not None and error.kind == "rate_limited" and sleeps == [2.0, 2.0, 2.0]
    assert not double.requests("HighRiskSpecialPrefixes")  # Twilio is limiting us: no more requests this run


def test_the_lease_schedules_runs_and_keeps_them_apart(runner: TwilioSync, policy: Policy, double: TwilioDouble, clock: FakeClock) -> None:
    assert runner.run(policy).ok
    assert runner.run(policy).not_run == "not due"
    assert runner.run(policy, force=True).ok  # `callguard sync`: whenever no run is in progress
    clock.advance(INTERVAL)
    assert runner.leases.acquire(LEASE, "another-host:1", now=clock(), hold_for=900)
    report = runner.run(policy, force=True)
    assert report.not_run == "a sync is in progress in another-host:1" and not report.ok


def test_a_failed_run_is_retried_after_a_minute(runner: TwilioSync, policy: Policy, double: TwilioDouble, clock: FakeClock) -> None:
    double.down()
    assert not runner.run(policy).ok
    lease = runner.leases.get(LEASE)
    assert lease is not None and lease.next_run_at == clock() + 60


def test_families_start_at_synced_accounts_whose_parent_is_not(write_policy: Any) -> None:
    text = SYNC_POLICY + f'\n[accounts.{GRANDCHILD}]\nparent = "{TENANT}"\nauth_token_env = "TWILIO_AUTH_TOKEN_TENANT"\n'
    policy = load_policy(write_policy(text, "family.toml"))
    assert [(root.sid, [m.sid for m in members]) for root, members in synced_families(policy)] == [(MAIN, [MAIN, TENANT, GRANDCHILD])]
    unsynced_middle = text.replace('twilio = "stricter"', 'twilio = "off"') + 'twilio = "mirror"\n'
    policy = load_policy(write_policy(unsynced_middle, "middle.toml"))
    assert [(root.sid, [m.sid for m in members]) for root, members in synced_families(policy)] == [
        (MAIN, [MAIN]),
        (GRANDCHILD, [GRANDCHILD]),
    ]


def test_the_scheduler_runs_only_when_due_and_survives_a_database_outage(
    runner: TwilioSync, policy: Policy, double: TwilioDouble, clock: FakeClock, tmp_path: Path
) -> None:
    scheduler = SyncScheduler(runner, lambda: policy)
    assert scheduler.tick() is not None and scheduler.tick().not_run == "not due"  # type: ignore[union-attr]
    assert len(double.requests(r"/Accounts\.json$")) == 1
    runner.leases = LeaseStore(create_database_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}"))
    assert scheduler.tick() is None  # logged; the next tick tries again


def test_a_twilio_subaccount_with_a_suspended_status_is_stored_as_such(runner: TwilioSync, policy: Policy, double: TwilioDouble) -> None:
    double.accounts[TENANT].status = "suspended"
    double.add(FakeAccount("AC" + "7" * 32, "t", owner_account_sid=MAIN, status="closed"))
    assert runner.run(policy).ok
    snapshot = runner.store.load()
    assert snapshot.accounts[TENANT].status == "suspended" and snapshot.accounts["AC" + "7" * 32].status == "closed"
