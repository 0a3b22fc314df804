"""Twilio's picture in the records database, on SQLite and PostgreSQL (callguard.store.twilio_snapshots)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from callguard.policy.twilio_snapshot import TwilioAccount, TwilioCountry
from callguard.store import create_database_engine, ensure_schema
from callguard.store.overrides import OverrideStore
from callguard.store.twilio_snapshots import SyncWrite, TwilioSnapshotStore

from ..conftest import MAIN, TENANT

US = TwilioCountry("US", ("+1",), True, False, False)
GB = TwilioCountry("GB", ("+44",), True, True, False)


@pytest.fixture
def store(database_url: str) -> Iterator[TwilioSnapshotStore]:
    engine = create_database_engine(database_url)
    ensure_schema(engine)
    yield TwilioSnapshotStore(engine)
    engine.dispose()


def main_account(**changes: object) -> TwilioAccount:
    fields: dict[str, object] = {
        "sid": MAIN, "owner_account_sid": MAIN, "friendly_name": "Main", "status": "active",
        "incoming_numbers": frozenset({"+14155550100", "+14155550101"}), "verified_caller_ids": frozenset({"+12025550123"}),
        "countries": (GB, US),
    }
    return TwilioAccount(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_write_is_read_back_whole_with_a_new_version(store: TwilioSnapshotStore) -> None:
    assert store.version() == 0 and store.load().accounts == {}
    tenant = TwilioAccount(TENANT, MAIN, "Tenant", "suspended", inherits_permissions=True, incoming_numbers=frozenset({"+442079460000"}))
    store.write(SyncWrite(at=1000.0, synced=[main_account(), tenant], prefixes={"GB": ["+44161496", "+4490"]}))
    snapshot = store.load()
    assert snapshot.version == store.version() == 1
    main = snapshot.accounts[MAIN]
    assert main == main_account(synced_at=1000.0, attempted_at=1000.0)
    assert snapshot.accounts[TENANT].countries is None and snapshot.countries_for(TENANT) == (GB, US)  # inherited
    assert snapshot.accounts[TENANT].status == "suspended"
    assert snapshot.special_prefixes == {"+44161496": "GB", "+4490": "GB"}


def test_a_failed_read_keeps_the_last_good_data_and_records_the_error(store: TwilioSnapshotStore) -> None:
    store.write(SyncWrite(at=1000.0, synced=[main_account()]))
    store.write(SyncWrite(at=2000.0, failed={MAIN: "Twilio answered 503", TENANT: "not tried"}))
    snapshot = store.load()
    main = snapshot.accounts[MAIN]
    assert (main.synced_at, main.attempted_at, main.last_error) == (1000.0, 2000.0, "Twilio answered 503")
    assert main.caller_ids == {"+14155550100", "+14155550101", "+12025550123"} and main.countries == (GB, US)
    assert snapshot.accounts[TENANT].synced_at is None and snapshot.accounts[TENANT].last_error == "not tried"
    assert snapshot.version == 2


def test_a_later_read_replaces_numbers_countries_and_prefixes(store: TwilioSnapshotStore) -> None:
    store.write(SyncWrite(at=1000.0, synced=[main_account()], prefixes={"GB": ["+44161496", "+4490"]}))
    later = main_account(incoming_numbers=frozenset({"+14155550101", "+14155550102"}), countries=(US,))
    store.write(SyncWrite(at=1300.0, synced=[later], prefixes={"GB": ["+4490"]}))
    snapshot = store.load()
    main = snapshot.accounts[MAIN]
    assert main.incoming_numbers == {"+14155550101", "+14155550102"} and main.countries == (US,)
    assert (main.synced_at, main.last_error) == (1300.0, None)
    assert snapshot.special_prefixes == {"+4490": "GB"}


def test_a_listed_account_keeps_its_data_when_only_its_status_is_refreshed(store: TwilioSnapshotStore) -> None:
    store.write(SyncWrite(at=1000.0, synced=[main_account()]))
    store.write(SyncWrite(at=1300.0, listed=[TwilioAccount(MAIN, MAIN, "Main renamed", "closed")]))
    main = store.load().accounts[MAIN]
    assert (main.friendly_name, main.status, main.synced_at) == ("Main renamed", "closed", 1000.0)
    assert main.incoming_numbers == {"+14155550100", "+14155550101"}


def test_many_numbers_are_written_and_diffed_in_slices(store: TwilioSnapshotStore) -> None:
    many = frozenset(f"+1415555{i:04d}" for i in range(2_000))
    store.write(SyncWrite(at=1000.0, synced=[main_account(incoming_numbers=many)]))
    fewer = frozenset(sorted(many)[700:])
    store.write(SyncWrite(at=1300.0, synced=[main_account(incoming_numbers=fewer)]))
    assert store.load().accounts[MAIN].incoming_numbers == fewer


def test_the_snapshot_version_is_its_own_row(store: TwilioSnapshotStore) -> None:
    overrides = OverrideStore(store.engine)
    overrides.set_suspended(MAIN, True, reason="x", actor="test", now=1.0)
    store.write(SyncWrite(at=1000.0, synced=[main_account()]))
    store.write(SyncWrite(at=1001.0, synced=[main_account()]))
    assert (overrides.version(), store.version()) == (1, 2)
