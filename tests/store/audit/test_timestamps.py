"""The timestamp text the audit writers bind (callguard.store.audit.timestamps)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from callguard.store.audit.timestamps import epoch_stamps

_FIRST_SECOND, _LAST_SECOND = -62_135_596_800.0, 253_402_300_799.0  # of years 1 and 9999, as epoch seconds
_EPOCHS = st.floats(min_value=_FIRST_SECOND, max_value=_LAST_SECOND)


@given(st.lists(st.datetimes(timezones=st.just(UTC)) | st.datetimes() | _EPOCHS, min_size=1, max_size=30))
def test_the_writers_timestamp_text_is_the_dialects(stamps: list[datetime | float]) -> None:
    """The writer's text for a decision's epoch seconds (each second's text kept, the microseconds
    rounded as fromtimestamp rounds them) is what SQLite's DATETIME processor makes of the UTC
    datetime, in any order; so is its text for an aware datetime."""
    from sqlalchemy import DateTime
    from sqlalchemy.dialects import sqlite

    from callguard.clock import utc_datetime

    dialect = sqlite.dialect()
    process = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
    stamp = epoch_stamps(process)
    # the same second again, its edges, and the half-microsecond boundaries that rounding decides
    neighbours = [
        s + d if isinstance(s, float) else s.replace(microsecond=m)
        for s in stamps
        for d, m in ((0.0, 0), (1e-7, 1), (0.4999995, 999_999), (5e-7, 500_000), (0.9999995, 999_999))
    ]
    values = [v for v in stamps + neighbours if not isinstance(v, float) or v <= _LAST_SECOND]
    assert [stamp(v) for v in values] == [process(v if isinstance(v, datetime) else utc_datetime(v)) for v in values]


def test_the_writers_timestamp_for_postgresql_is_the_utc_datetime() -> None:

    stamp = epoch_stamps(None)  # psycopg binds datetimes as they are
    assert stamp(1_780_000_000.5) == datetime(2026, 5, 28, 20, 26, 40, 500_000, tzinfo=UTC)
    aware = datetime(2026, 5, 28, 20, 26, 40, tzinfo=UTC)
    assert stamp(aware) is aware
