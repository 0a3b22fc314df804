"""The report counts gathered in memory and written in one batch (callguard.traffic.tallies)."""

from __future__ import annotations

from pathlib import Path

from callguard import FakeClock
from callguard.store.counters import open_counters
from callguard.traffic import keys
from callguard.traffic.counters import ReadIndex, ReadTallies
from callguard.traffic.tallies import TallyBuffer

ACCOUNT = "AC" + "a" * 32


def test_counts_reach_the_counters_only_when_flushed_and_a_fork_forgets_the_parents(tmp_path: Path, clock: FakeClock) -> None:
    counters = open_counters(None, str(tmp_path / "counters.db"))
    tallies = TallyBuffer(counters, clock)
    now = clock()
    day = (keys.day_bucket(now),)

    def read() -> list[object]:
        return counters.run([ReadIndex(keys.countries(ACCOUNT)), ReadTallies(keys.country_calls(ACCOUNT, "US"), day)], now)

    tallies.count_call(ACCOUNT, "US", "+14155550100", "us1", now)
    assert read() == [[], {}]
    tallies.forget()  # what a forked child does: the parent writes its own counts
    tallies.flush()
    assert read() == [[], {}]
    tallies.count_call(ACCOUNT, "US", "+14155550100", "us1", now)
    tallies.count_call(ACCOUNT, "US", None, "us1", now)
    tallies.flush()
    assert read() == [["US"], {day[0]: 2}]
    counters.close()
