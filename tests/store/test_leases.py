"""The lease row that lets one process at a time run a scheduled job (callguard.store.leases)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from callguard.store import create_database_engine, ensure_schema
from callguard.store.leases import LeaseStore


@pytest.fixture
def leases(database_url: str) -> Iterator[LeaseStore]:
    engine = create_database_engine(database_url)
    ensure_schema(engine)
    yield LeaseStore(engine)
    engine.dispose()


def test_one_holder_at_a_time_until_it_releases_and_the_job_is_due_again(leases: LeaseStore) -> None:
    assert leases.get("job") is None
    assert leases.acquire("job", "a", now=100.0, hold_for=60.0)
    assert not leases.acquire("job", "b", now=101.0, hold_for=60.0)
    assert not leases.acquire("job", "b", now=101.0, hold_for=60.0, force=True)  # a run is in progress
    leases.release("job", "a", now=110.0, next_run_at=400.0)
    assert leases.get("job").next_run_at == 400.0  # type: ignore[union-attr]
    assert not leases.acquire("job", "b", now=399.0, hold_for=60.0)  # not due
    assert leases.acquire("job", "b", now=120.0, hold_for=60.0, force=True)  # forced: any time no run holds it
    leases.release("job", "b", now=130.0, next_run_at=400.0)
    assert leases.acquire("job", "c", now=400.0, hold_for=60.0)
    assert leases.get("job").holder == "c"  # type: ignore[union-attr]


def test_a_holder_that_died_loses_the_lease_when_its_hold_ends(leases: LeaseStore) -> None:
    assert leases.acquire("job", "a", now=100.0, hold_for=60.0)
    assert not leases.acquire("job", "b", now=159.0, hold_for=60.0)
    assert leases.acquire("job", "b", now=160.0, hold_for=60.0)
    leases.release("job", "a", now=170.0, next_run_at=999.0)  # a's late release does not touch b's lease
    lease = leases.get("job")
    assert lease is not None and (lease.holder, lease.held_until) == ("b", 220.0)


def test_jobs_have_separate_leases(leases: LeaseStore) -> None:
    assert leases.acquire("one", "a", now=100.0, hold_for=60.0)
    assert leases.acquire("two", "a", now=100.0, hold_for=60.0)


def test_of_many_processes_racing_for_a_due_job_exactly_one_wins(database_url: str, leases: LeaseStore) -> None:
    import threading

    engines = [create_database_engine(database_url) for _ in range(6)]
    start = threading.Barrier(len(engines))
    won: list[bool] = []

    def race(index: int) -> None:
        store = LeaseStore(engines[index])
        start.wait(timeout=30)
        won.append(store.acquire("job", f"worker-{index}", now=100.0, hold_for=60.0))

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(engines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for engine in engines:
        engine.dispose()
    assert sorted(won) == [False] * (len(engines) - 1) + [True]
