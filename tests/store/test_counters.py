"""The counter backends, one suite for both (callguard.store.counters_sqlite, counters_redis)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callguard.errors import StoreUnavailable
from callguard.store.counters import open_counters
from callguard.traffic.counters import (
    Admit,
    AdmitResult,
    ClearFlag,
    CounterBackend,
    GetFlag,
    Index,
    OutcomeStats,
    ReadIndex,
    ReadTallies,
    RecordOutcome,
    Release,
    SetFlag,
    Tally,
    Unhit,
)

NOW = 1_780_000_000.0


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def backend_spec(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    if request.param == "sqlite":
        return {"redis_url": None, "sqlite_path": str(tmp_path / "counters.db"), "prefix": ""}
    return {"redis_url": request.getfixturevalue("redis_server"), "sqlite_path": "", "prefix": request.getfixturevalue("redis_prefix")}


@pytest.fixture
def counters(backend_spec: dict[str, Any]) -> Iterator[CounterBackend]:
    backend = open_counters(backend_spec["redis_url"], backend_spec["sqlite_path"], prefix=backend_spec["prefix"], timeout=1.0)
    yield backend
    backend.close()


def window(key: str, seconds: float, limit: int, event: str) -> Admit:
    return Admit(((key, seconds, limit),), (), (), event, event)


def gauge(key: str, member: str, ttl: float, limit: int) -> Admit:
    return Admit((), ((key, ttl, limit),), (), member, member + "-event")


def test_a_window_admits_up_to_its_limit_and_slides(counters: CounterBackend) -> None:
    results = [counters.run([window("cps", 1.0, 3, f"m{i}")], NOW + i * 0.1)[0] for i in range(5)]
    assert [(r.admitted, r.window_counts) for r in results] == [(True, (0,)), (True, (1,)), (True, (2,)), (False, (3,)), (False, (3,))]
    # At NOW + 1.0 the first event (at NOW) has left the window: exactly one slot opens.
    assert counters.run([window("cps", 1.0, 3, "m5")], NOW + 1.0)[0].admitted
    assert not counters.run([window("cps", 1.0, 3, "m6")], NOW + 1.0)[0].admitted


def test_unhit_gives_the_slot_back(counters: CounterBackend) -> None:
    assert counters.run([window("k", 60, 1, "a")], NOW)[0].admitted
    counters.run([Unhit("k", "a", NOW)], NOW)
    assert counters.run([window("k", 60, 1, "b")], NOW)[0].admitted
    counters.run([Unhit("k", "nothing-here", NOW)], NOW)  # an unknown event changes nothing
    assert counters.run([window("k", 60, 1, "c")], NOW)[0] == AdmitResult(False, (1,), (), ())


def test_a_large_window_counts_exactly_as_it_slides(counters: CounterBackend) -> None:
    # 600 calls a second apart against a limit of 500 in 10 minutes: the 501st to 600th are refused,
    # and from then on one slot opens each second as the oldest call leaves the window.
    admitted = [counters.run([window("vel", 600, 500, f"e{i}")], NOW + i)[0].admitted for i in range(600)]
    assert admitted == [True] * 500 + [False] * 100
    assert counters.run([window("vel", 600, 500, "late")], NOW + 600)[0] == AdmitResult(True, (499,), (), ())
    assert counters.run([window("vel", 600, 500, "later")], NOW + 600)[0] == AdmitResult(False, (500,), (), ())


def test_gauge_with_expiry(counters: CounterBackend) -> None:
    run = counters.run
    assert run([gauge("calls", "CA1", 3600, 2)], NOW)[0] == AdmitResult(True, (), (0,), (), (True,))
    assert run([gauge("calls", "CA1", 3600, 2)], NOW)[0] == AdmitResult(True, (), (1,), (), (False,))  # the same call again
    assert run([gauge("calls", "CA2", 3600, 2)], NOW)[0] == AdmitResult(True, (), (1,), (), (True,))
    assert run([gauge("calls", "CA3", 3600, 2)], NOW)[0] == AdmitResult(False, (), (2,), (), (False,))
    assert run([gauge("calls", "CA1", 3600, 2)], NOW)[0].admitted  # a member already in counts as in
    run([Release("calls", "CA1")], NOW)
    assert run([gauge("calls", "CA3", 3600, 2)], NOW)[0].admitted
    # A call whose end was never reported frees its slot after its ttl.
    assert run([gauge("calls", "CA4", 3600, 2)], NOW + 3601)[0] == AdmitResult(True, (), (0,), (), (True,))
    assert run([gauge("calls", "CA5", 3600, 2)], NOW + 3601)[0].admitted


def test_outcomes_keep_the_last_n_within_the_window(counters: CounterBackend) -> None:
    for i, (answered, duration) in enumerate([(True, 30.0), (False, 0.0), (True, 10.0), (False, 0.0), (True, 50.0)]):
        counters.run([RecordOutcome("cid", answered, duration, keep=4, ttl=86400)], NOW + i)
    assert counters.run([OutcomeStats("cid", 86400, 100)], NOW + 10)[0] == (4, 2, 60.0)  # only 4 kept
    assert counters.run([OutcomeStats("cid", 86400, 2)], NOW + 10)[0] == (2, 1, 50.0)
    assert counters.run([OutcomeStats("cid", 6.5, 100)], NOW + 10)[0] == (1, 1, 50.0)  # after NOW+3.5: the one at NOW+4


def test_flags_expire_and_can_be_cleared(counters: CounterBackend) -> None:
    counters.run([SetFlag("throttle", NOW + 60, "too many unanswered")], NOW)
    assert counters.run([GetFlag("throttle")], NOW + 59)[0] == (NOW + 60, "too many unanswered")
    assert counters.run([GetFlag("throttle")], NOW + 60)[0] is None
    assert counters.run([GetFlag("none")], NOW)[0] is None
    counters.run([SetFlag("block", NOW + 600, "velocity")], NOW)
    assert counters.run([ClearFlag("block"), GetFlag("block"), ClearFlag("block")], NOW + 1) == [True, None, False]
    counters.run([SetFlag("old", NOW + 1, "velocity")], NOW)
    assert counters.run([ClearFlag("old")], NOW + 1)[0] is False  # expired already: nothing was in force


def test_tallies_and_indexes(counters: CounterBackend) -> None:
    assert counters.run([Tally("t", 10, 1, 86400), Tally("t", 10, 2, 86400), Tally("t", 11, 5, 86400)], NOW) == [1, 3, 5]
    assert counters.run([ReadTallies("t", (9, 10, 11))], NOW)[0] == {10: 3, 11: 5}
    assert counters.run([ReadTallies("t", ())], NOW)[0] == {}
    counters.run([Index("ids", "+14155550100", 3600), Index("ids", "+14155550101", 10)], NOW)
    assert counters.run([ReadIndex("ids")], NOW)[0] == ["+14155550100", "+14155550101"]
    assert counters.run([ReadIndex("ids")], NOW + 11)[0] == ["+14155550100"]


def test_a_batch_returns_every_result_in_order(counters: CounterBackend) -> None:
    results = counters.run([window("a", 1, 5, "x"), gauge("g", "CA", 60, 5), GetFlag("f"), Tally("t", 1, 1, 60), ReadIndex("i")], NOW)
    assert results == [AdmitResult(True, (0,), (), ()), AdmitResult(True, (), (0,), (), (True,)), None, 1, []]


def test_state_survives_reopening(backend_spec: dict[str, Any]) -> None:
    first = open_counters(backend_spec["redis_url"], backend_spec["sqlite_path"], prefix=backend_spec["prefix"], timeout=1.0)
    first.run([window("cps", 60, 2, "a"), SetFlag("blocked", NOW + 600, "velocity")], NOW)
    first.close()
    second = open_counters(backend_spec["redis_url"], backend_spec["sqlite_path"], prefix=backend_spec["prefix"], timeout=1.0)
    results = second.run([window("cps", 60, 2, "b"), window("cps", 60, 2, "c"), GetFlag("blocked")], NOW + 1)
    assert [r.admitted for r in results[:2]] == [True, False] and results[2] == (NOW + 600, "velocity")
    second.close()


def _hammer(spec: dict[str, Any], start: int, results: Any) -> None:
    backend = open_counters(spec["redis_url"], spec["sqlite_path"], prefix=spec["prefix"], timeout=2.0)
    results.extend([backend.run([window("shared", 60, 50, f"p{start}-{i}")], NOW)[0].admitted for i in range(40)])
    backend.close()


def test_two_processes_share_one_count(backend_spec: dict[str, Any]) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        results = manager.list()
        workers = [context.Process(target=_hammer, args=(backend_spec, n, results)) for n in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        assert [w.exitcode for w in workers] == [0, 0]
        assert sum(results) == 50  # 80 attempts, exactly the limit recorded across both processes


def test_an_unreachable_redis_is_store_unavailable_within_the_timeout() -> None:
    import socket
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket closes
    backend = open_counters(f"redis://127.0.0.1:{port}/0", "", timeout=0.05)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        backend.run([window("k", 1, 1, "m")], NOW)
    assert caught.value.backend == "redis" and time.monotonic() - started < 1.0
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        backend.admit(window("k", 1, 1, "m"), NOW)  # the call path
    assert caught.value.operation == "counters batch" and time.monotonic() - started < 1.0


def test_a_broken_sqlite_file_is_store_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "counters.db"
    backend = open_counters(None, str(path))
    backend.run([window("k", 1, 1, "m")], NOW)
    backend.close()
    path.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"counters.db{suffix}").unlink(missing_ok=True)
    with pytest.raises(StoreUnavailable) as caught:
        open_counters(None, str(path)).run([window("k", 1, 1, "m")], NOW)
    assert caught.value.backend == "sqlite"


def test_admit_records_everywhere_or_nowhere(counters: CounterBackend) -> None:
    def admit(member: str, now: float = NOW) -> AdmitResult:
        return counters.run([Admit((("cps", 1.0, 2), ("vel", 600, 3)), (("conc", 3600, 2),), ("throttle",), member, member)], now)[0]

    assert admit("a") == AdmitResult(True, (0, 0), (0,), (None,), (True,))
    assert admit("b") == AdmitResult(True, (1, 1), (1,), (None,), (True,))
    refused = admit("c")  # cps and concurrency both full: nothing is recorded anywhere
    assert refused == AdmitResult(False, (2, 2), (2,), (None,), (False,))
    counters.run([Release("conc", "a")], NOW + 1)
    assert admit("c", NOW + 1) == AdmitResult(True, (0, 2), (1,), (None,), (True,))  # vel held 2, not 3
    assert admit("d", NOW + 1).admitted is False  # vel window full now (3), gauge full
    counters.run([SetFlag("throttle", NOW + 60, "unanswered|too many")], NOW)
    counters.run([Release("conc", "b"), Release("conc", "c")], NOW + 2)
    result = admit("e", NOW + 700)  # windows have slid; the flag has expired too (NOW + 60)
    assert result == AdmitResult(True, (0, 0), (0,), (None,), (True,))
    counters.run([SetFlag("throttle", NOW + 1000, "unanswered|too many")], NOW + 700)
    assert admit("f", NOW + 700).flags == ((NOW + 1000, "unanswered|too many"),)


def test_admit_is_the_batch_of_one_admission(counters: CounterBackend) -> None:
    """The call path's shortcut gives what the general batch gives, and shares its state."""

    def shape(event: str) -> Admit:
        return Admit((("w", 60, 2),), (("g", 60, 5),), ("f",), event, event)

    assert counters.admit(shape("a"), NOW) == AdmitResult(True, (0,), (0,), (None,), (True,))
    assert counters.run([shape("b")], NOW)[0] == AdmitResult(True, (1,), (1,), (None,), (True,))
    assert counters.admit(shape("c"), NOW) == AdmitResult(False, (2,), (2,), (None,), (False,))
    counters.run([SetFlag("f", NOW + 100, "blocked")], NOW)
    assert counters.admit(shape("d"), NOW + 61) == AdmitResult(False, (0,), (2,), ((NOW + 100, "blocked"),), (False,))


def test_a_what_if_admission_answers_like_one_and_records_nothing(counters: CounterBackend) -> None:
    def shape(event: str, record: bool = True) -> Admit:
        return Admit((("w", 60, 3),), (("g", 3600, 2),), ("f",), event, event, record)

    # Nothing recorded yet: a what-if is admitted, joins nothing, and leaves the counts at zero.
    assert counters.admit(shape("probe", record=False), NOW) == AdmitResult(True, (0,), (0,), (None,), (False,))
    assert counters.run([shape("probe", record=False)], NOW)[0] == AdmitResult(True, (0,), (0,), (None,), (False,))
    assert counters.admit(shape("a"), NOW) == AdmitResult(True, (0,), (0,), (None,), (True,))
    for _ in range(5):
        assert counters.admit(shape("probe", record=False), NOW) == AdmitResult(True, (1,), (1,), (None,), (False,))
    assert counters.admit(shape("a", record=False), NOW) == AdmitResult(True, (1,), (1,), (None,), (False,))  # a member already in
    assert counters.admit(shape("b"), NOW) == AdmitResult(True, (1,), (1,), (None,), (True,))
    # A full gauge: the what-if is refused exactly as the real admission, which records nothing either.
    full = AdmitResult(False, (2,), (2,), (None,), (False,))
    assert counters.admit(shape("c", record=False), NOW) == full
    assert counters.admit(shape("c"), NOW) == full
    counters.run([SetFlag("f", NOW + 100, "blocked")], NOW)
    blocked = AdmitResult(False, (2,), (2,), ((NOW + 100, "blocked"),), (False,))
    assert counters.admit(shape("d", record=False), NOW + 1) == blocked == counters.admit(shape("d"), NOW + 1)
    # Past every expiry the what-if drops what expired, as an admission would; the counts stay exact.
    assert counters.admit(shape("e", record=False), NOW + 3601) == AdmitResult(True, (0,), (0,), (None,), (False,))
    assert counters.admit(shape("e"), NOW + 3601) == AdmitResult(True, (0,), (0,), (None,), (True,))
    assert counters.admit(shape("f", record=False), NOW + 3601) == AdmitResult(True, (1,), (1,), (None,), (False,))


def test_what_ifs_among_bursts_leaving_a_window_keep_the_count_exact(counters: CounterBackend) -> None:
    """Events that left a window are accounted for by a what-if too (in bursts past SQLite's expiry batch)."""
    for burst in range(3):
        start = NOW + burst * 20
        for i in range(20):
            assert counters.admit(window("w", 10, 30, f"e{burst}-{i}"), start + i * 0.01).admitted
        assert counters.admit(Admit((("w", 10, 30),), (), (), "p", "p", False), start + 5).window_counts == (20,)
        # All 20 have left the window: the what-if sees none, records none, and the next admission sees none.
        assert counters.admit(Admit((("w", 10, 30),), (), (), "p", "p", False), start + 10.5).window_counts == (0,)
        assert counters.admit(Admit((("w", 10, 30),), (), (), "p", "p", False), start + 10.5).window_counts == (0,)
        assert counters.admit(window("w", 10, 30, f"late{burst}"), start + 10.5).window_counts == (0,)
        assert counters.admit(window("w", 10, 30, f"later{burst}"), start + 10.6).window_counts == (1,)


def test_a_gauge_member_that_expired_joins_again_as_new(counters: CounterBackend) -> None:
    assert counters.admit(gauge("calls", "CA1", 60, 1), NOW).joined == (True,)
    # CA1's end was never reported; when it asks again past its ttl it is counted afresh.
    assert counters.admit(gauge("calls", "CA1", 60, 1), NOW + 61) == AdmitResult(True, (), (0,), (), (True,))
    assert counters.admit(gauge("calls", "CA2", 60, 1), NOW + 62) == AdmitResult(False, (), (1,), (), (False,))
    counters.run([Release("calls", "CA1")], NOW + 63)
    assert counters.admit(gauge("calls", "CA2", 60, 1), NOW + 63) == AdmitResult(True, (), (0,), (), (True,))


def test_events_leaving_a_window_in_bursts_keep_the_count_exact(counters: CounterBackend) -> None:
    """Bursts larger and smaller than the SQLite backend's expiry batch, refused calls among them."""
    for burst in range(4):
        for i in range(40):
            counters.admit(window("w", 10, 30, f"e{burst}-{i}"), NOW + burst * 20 + i * 0.01)
        # 30 admitted, 10 refused (nothing written for them); 20 s on, all 30 have left the window.
        assert counters.admit(window("w", 10, 30, f"probe{burst}"), NOW + burst * 20 + 9.0).window_counts == (30,)
        assert counters.admit(window("w", 10, 30, f"late{burst}"), NOW + burst * 20 + 10.005).window_counts == (29,)
    counters.run([Unhit("w", "late3", NOW + 70.005)], NOW + 70.01)
    assert counters.admit(window("w", 10, 30, "last"), NOW + 70.01).window_counts == (28,)


def test_pruning_keeps_the_running_counts_exact(tmp_path: Path) -> None:
    from callguard.store.counters_sqlite import SqliteCounters

    backend = SqliteCounters(str(tmp_path / "counters.db"))
    for i in range(5):
        backend.run([Admit((("w", 86_400 * 30, 100),), (("g", 60, 100),), (), f"CA{i}", f"e{i}")], NOW + i)
    backend.prune(NOW + 32 * 86_400)  # events older than the longest window (31 days) and expired gauge members go
    assert backend.run([Admit((("w", 86_400 * 30, 100),), (("g", 60, 100),), (), "CAx", "ex")], NOW + 32 * 86_400)[0] == AdmitResult(
        True, (0,), (0,), (), (True,)
    )
    backend.close()


def test_a_30_day_window_outlives_pruning_and_slides(counters: CounterBackend) -> None:
    """The legal per-callee limits count over a month (France: 4 calls in 30 days)."""
    month = 30 * 86_400.0
    for i in range(4):
        assert counters.admit(window("callee", month, 4, f"e{i}"), NOW + i * 86_400).admitted
    if hasattr(counters, "prune"):
        counters.prune(NOW + 29 * 86_400)  # the chores' prune keeps what a window may still hold
    assert counters.admit(window("callee", month, 4, "e4"), NOW + 29 * 86_400).window_counts == (4,)
    assert not counters.admit(window("callee", month, 4, "e5"), NOW + 29 * 86_400).admitted
    slid = counters.admit(window("callee", month, 4, "e6"), NOW + month + 1)  # the first call has left the window
    assert slid.admitted and slid.window_counts == (3,)


def test_a_counters_file_of_another_version_is_recreated(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "counters.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE events (key TEXT, at REAL, member TEXT)")
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()
    backend = open_counters(None, str(path))
    assert backend.run([window("k", 60, 1, "a")], NOW)[0].admitted
    backend.close()


def test_a_version_3_counters_file_is_upgraded_in_place(tmp_path: Path) -> None:
    """Version 3 kept counts in a table of their own: its windows, gauges and blocks carry over."""
    import sqlite3

    path = tmp_path / "counters.db"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE events (key TEXT NOT NULL, at REAL NOT NULL, member TEXT NOT NULL, PRIMARY KEY (key, at, member)) WITHOUT ROWID;
        CREATE TABLE gauge (key TEXT NOT NULL, member TEXT NOT NULL, expires REAL NOT NULL, PRIMARY KEY (key, member)) WITHOUT ROWID;
        CREATE TABLE counts (key TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TRIGGER events_counted AFTER INSERT ON events BEGIN SELECT 1; END;
        CREATE TRIGGER events_uncounted AFTER DELETE ON events BEGIN SELECT 1; END;
        CREATE TRIGGER gauge_counted AFTER INSERT ON gauge BEGIN SELECT 1; END;
        CREATE TRIGGER gauge_uncounted AFTER DELETE ON gauge BEGIN SELECT 1; END;
        CREATE TABLE flags (key TEXT PRIMARY KEY, until REAL NOT NULL, reason TEXT NOT NULL) WITHOUT ROWID;
        PRAGMA user_version = 3;
        """
    )
    old.executemany("INSERT INTO events VALUES ('vel', ?, ?)", [(NOW + i, f"e{i}") for i in range(3)])
    old.executemany("INSERT INTO gauge VALUES ('calls', ?, ?)", [("CA1", NOW + 3600), ("CA2", NOW + 3600)])
    old.executemany("INSERT INTO counts VALUES (?, ?)", [("evel", 3), ("gcalls", 2), ("eempty", 0)])
    old.execute("INSERT INTO flags VALUES ('velblock:+371', ?, 'too many calls')", (NOW + 86_400,))
    old.commit()
    old.close()
    backend = open_counters(None, str(path))
    assert backend.run([GetFlag("velblock:+371")], NOW + 10) == [(NOW + 86_400, "too many calls")]
    windows, gauges = (("vel", 600, 10),), (("calls", 3600, 3),)
    assert backend.admit(Admit(windows, gauges, (), "CA3", "e3"), NOW + 10) == AdmitResult(True, (3,), (2,), (), (True,))
    backend.run([Release("calls", "CA1")], NOW + 11)
    assert backend.admit(Admit(windows, gauges, (), "CA4", "e4"), NOW + 11) == AdmitResult(True, (4,), (2,), (), (True,))
    (version,) = backend._connection().execute("PRAGMA user_version").fetchone()  # type: ignore[attr-defined]
    assert version == 4
    backend.close()


def test_background_chores_checkpoint_and_prune(tmp_path: Path) -> None:
    """One round of the chores checkpoints the WAL; a round a minute after the last prune also
    deletes what expired as of the last batch's time, keeping the counts exact."""
    from callguard import FakeClock
    from callguard.store.counters_sqlite import SqliteCounters
    from callguard.traffic.counters import MAX_WINDOW

    ticks = FakeClock(0.0)  # the backend's monotonic clock
    backend = SqliteCounters(str(tmp_path / "counters.db"), monotonic=ticks)
    backend.run([window("k", 60, 5, "a")], NOW)
    frames, copied = backend.checkpoint()
    assert frames > 0 and copied == frames
    later = NOW + MAX_WINDOW + 1  # the event is older than any window by now
    backend.run([SetFlag("f", later + 60, "x")], later)
    events = backend._connection().execute  # type: ignore[attr-defined]
    backend.run_chores()  # within the minute: a checkpoint only
    assert events("SELECT count(*) FROM events WHERE key = 'k'").fetchone()[0] > 0
    ticks.advance(60)
    backend.run_chores()
    assert events("SELECT count(*) FROM events WHERE key = 'k'").fetchone()[0] == 0
    assert backend.admit(window("k", 60, 1, "b"), later + 1).admitted  # the count went with the rows
    backend.close()


@pytest.mark.redis
def test_redis_reloads_its_script_when_the_server_forgot_it(redis_server: str, redis_prefix: str) -> None:
    from callguard.store.counters_redis import RedisCounters

    backend = RedisCounters(redis_server, prefix=redis_prefix, timeout=1.0)
    backend._shas = {"admit": "0" * 40}  # what a restarted server (or SCRIPT FLUSH) leaves the client with
    assert backend.run([window("k", 60, 5, "a"), GetFlag("f")], NOW) == [AdmitResult(True, (0,), (), ()), None]
    assert backend._shas["admit"] != "0" * 40
    backend._shas = {"admit": "0" * 40}
    assert backend.admit(window("k", 60, 5, "b"), NOW) == AdmitResult(True, (1,), (), ())  # the call path reloads it too
    assert backend._shas["admit"] != "0" * 40
    backend.close()



@pytest.mark.redis
def test_a_black_holed_redis_costs_one_short_wait_per_cool_off(redis_server: str, redis_prefix: str, fault_relay: Any) -> None:
    import time

    from callguard import FakeClock
    from callguard.breaker import CircuitBreaker
    from callguard.store.counters_redis import RedisCounters

    from ..faults.relay import Mode

    relay = fault_relay(6379)
    breakers = FakeClock(0)
    backend = RedisCounters(relay.url(redis_server), prefix=redis_prefix, breaker=CircuitBreaker("redis", clock=breakers))
    assert backend.admit(window("k", 60, 5, "a"), NOW).admitted
    relay.set(Mode.BLACKHOLE)
    waits = []
    for event in ("b", "c", "d"):
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            backend.admit(window("k", 60, 5, event), NOW)
        waits.append(time.monotonic() - started)
    assert 0.04 < waits[0] < 0.2 and max(waits[1:]) < 0.005  # the read timeout once, then not asked
    relay.set(Mode.PASS)
    breakers.advance(1)
    assert backend.admit(window("k", 60, 5, "e"), NOW) == AdmitResult(True, (1,), (), ())
    backend.close()


def test_a_new_file_another_process_is_writing_is_waited_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite refuses to switch a file to WAL at once ("database is locked", no busy wait) while
    another connection writes it: workers opening a new counters file together must wait."""
    import sqlite3

    from callguard.store import counters_sqlite

    path = tmp_path / "counters.db"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("CREATE TABLE elsewhere (a)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO elsewhere VALUES (1)")
    waits: list[float] = []

    def other_commits_meanwhile(seconds: float) -> None:
        waits.append(seconds)
        other.execute("COMMIT")

    monkeypatch.setattr(counters_sqlite.time, "sleep", other_commits_meanwhile)
    backend = counters_sqlite.SqliteCounters(str(path), background=False)
    assert waits == [0.01]
    assert backend.run([window("k", 60, 1, "a")], NOW)[0].admitted
    backend.close()
    other.close()
