"""The monthly partitions of ``callguard_decisions`` on PostgreSQL.

On PostgreSQL the audit table is partitioned by range of ``decided_at``, a partition per
calendar month (UTC) named ``callguard_decisions_YYYY_MM``, plus ``callguard_decisions_default``,
a safety net for a row no month takes (a clock far off, or months not created in time). A month
past the retention is dropped whole, which frees its disk at once and leaves nothing for VACUUM;
a month is created before its first row arrives (:func:`ensure_months`, from the current month
to two ahead). Migration 0004 made the table so; SQLite keeps a plain table.

Creating or dropping a partition locks the whole table for a moment (PostgreSQL takes an ACCESS
EXCLUSIVE lock on the parent and on the default partition). The statements here wait at most
:data:`LOCK_WAIT` for it, so writers queued behind a waiting statement wait no longer than that;
a statement that gives up is tried again by the next run (:mod:`.pruning`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection

from ..schema import decisions

TABLE = decisions.name
DEFAULT = f"{TABLE}_default"
MONTHS_AHEAD = 2  # months created after the current one
LOCK_WAIT = "500ms"  # the longest a partition's CREATE or DROP waits for the table's lock
# Every partition callguard makes: left out of schema comparisons, as they are not in schema.py.
PARTITION_NAME = re.compile(rf"{TABLE}_(?:(?P<year>\d{{4}})_(?P<month>\d{{2}})|default)")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month in UTC: the range of ``decided_at`` one partition holds."""

    year: int
    month: int

    @classmethod
    def of(cls, instant: datetime) -> Month:
        instant = instant.astimezone(UTC)
        return cls(instant.year, instant.month)

    def plus(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the month."""
        return self.plus(1).start

    @property
    def name(self) -> str:
        return f"{TABLE}_{self.year:04d}_{self.month:02d}"


def is_partitioned(conn: Connection) -> bool:
    """Whether the audit table is a partitioned table (migration 0004 has run)."""
    found = conn.execute(
        text("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:table)"), {"table": TABLE}
    ).first()
    return found is not None


def partitions(conn: Connection) -> tuple[list[Month], bool]:
    """The months that have a partition, oldest first, and whether the default partition exists."""
    names = conn.execute(
        text("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(:table)"),
        {"table": TABLE},
    ).scalars()
    months, default = [], False
    for name in names:
        match = PARTITION_NAME.fullmatch(name)
        if match is None:
            continue  # someone else's partition: left alone
        if match["year"] is None:
            default = True
        else:
            months.append(Month(int(match["year"]), int(match["month"])))
    return sorted(months), default


def wait_for_locks_at_most(conn: Connection, wait: str = LOCK_WAIT) -> None:
    """For the rest of the transaction, a statement waiting longer than ``wait`` for a lock fails."""
    conn.execute(text(f"SET LOCAL lock_timeout = '{wait}'"))


def create_default(conn: Connection) -> None:
    conn.execute(text(f"CREATE TABLE IF NOT EXISTS {DEFAULT} PARTITION OF {TABLE} DEFAULT"))


def create_month(conn: Connection, month: Month, *, default: bool) -> None:
    """Create ``month``'s partition. Rows the default partition holds for that month move into it
    (PostgreSQL would otherwise refuse the partition), in the same transaction."""
    start, end = _literal(month.start), _literal(month.end)
    in_month = f"decided_at >= {start} AND decided_at < {end}"
    strays = default and conn.execute(text(f"SELECT 1 FROM {DEFAULT} WHERE {in_month} LIMIT 1")).first() is not None
    if strays:
        conn.execute(text(f"CREATE TEMPORARY TABLE callguard_moving (LIKE {TABLE})"))
        moved = f"DELETE FROM {DEFAULT} WHERE {in_month} RETURNING *"
        conn.execute(text(f"WITH moved AS ({moved}) INSERT INTO callguard_moving SELECT * FROM moved"))
    conn.execute(text(f"CREATE TABLE IF NOT EXISTS {month.name} PARTITION OF {TABLE} FOR VALUES FROM ({start}) TO ({end})"))
    if strays:
        conn.execute(text(f"INSERT INTO {TABLE} SELECT * FROM callguard_moving"))
        conn.execute(text("DROP TABLE callguard_moving"))


def drop_month(conn: Connection, month: Month) -> None:
    conn.execute(text(f"DROP TABLE IF EXISTS {month.name}"))


def months_to_create(existing: list[Month], now: datetime, ahead: int = MONTHS_AHEAD) -> list[Month]:
    """The months from ``now``'s to ``ahead`` after it that have no partition yet."""
    current = Month.of(now)
    return [month for month in (current.plus(n) for n in range(ahead + 1)) if month not in existing]


def expired_months(existing: list[Month], cutoff: datetime) -> list[Month]:
    """The months whose every instant is before ``cutoff``: their rows have all expired."""
    return [month for month in existing if month.end <= cutoff]


def _literal(instant: datetime) -> str:
    """A timestamptz literal with its offset, read the same whatever the session's time zone."""
    return f"'{instant.astimezone(UTC):%Y-%m-%d %H:%M:%S}+00'"
