"""The audit table partitioned by month on PostgreSQL, so that pruning drops whole months.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

``callguard_decisions`` becomes a table partitioned by range of ``decided_at``: a partition per
calendar month (UTC) that has rows, the current month and the two after it, and a default
partition for rows no month takes (see :mod:`callguard.store.audit.partitions`). Its columns,
their defaults (the same id sequence, which goes on from where it was) and its indexes are
kept; the primary key becomes (id, decided_at), as a partitioned table's unique keys must hold
the partition key. Every row is copied into the new table in the migration's transaction: on a
large table the upgrade takes a while (9 to 18 s a million rows on the project's 2-core VM,
benchmarks/audit_disk.py), and the audit writers wait for it. SQLite keeps its plain table, pruned by batched DELETEs.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from callguard.store.audit.partitions import Month, create_default, create_month

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLE = "callguard_decisions"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or _partitioned(bind):
        return
    old = f"{TABLE}_unpartitioned"
    indexes = _set_aside(bind, old)
    op.execute(f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS) PARTITION BY RANGE (decided_at)")
    op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, decided_at)")
    _own_sequence(bind, old)
    create_default(bind)
    with_rows = bind.execute(
        sa.text(f"SELECT DISTINCT date_trunc('month', decided_at AT TIME ZONE 'UTC') FROM {old}")
    ).scalars()
    current = Month.of(datetime.now(UTC))
    for month in sorted({Month(m.year, m.month) for m in with_rows} | {current.plus(n) for n in range(3)}):
        create_month(bind, month, default=False)
    _copy_and_drop(bind, old, indexes)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _partitioned(bind):
        return
    old = f"{TABLE}_partitioned"
    indexes = _set_aside(bind, old)
    op.execute(f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS)")
    op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id)")
    _own_sequence(bind, old)
    _copy_and_drop(bind, old, indexes)  # dropping the partitioned table drops its partitions


def _partitioned(bind: sa.Connection) -> bool:
    return bind.execute(sa.text("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:t)"), {"t": TABLE}).first() is not None


def _set_aside(bind: sa.Connection, old: str) -> list[tuple[str, list[str], bool]]:
    """Rename the table to ``old`` and free the names of its primary key and indexes for the new
    one; return its indexes (name, columns, unique) to make again."""
    inspector = sa.inspect(bind)
    indexes = [(str(ix["name"]), [str(c) for c in ix["column_names"]], bool(ix["unique"])) for ix in inspector.get_indexes(TABLE)]
    key = inspector.get_pk_constraint(TABLE)["name"]
    op.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
    if key:
        op.execute(f'ALTER TABLE {old} RENAME CONSTRAINT "{key}" TO {old}_pkey')
    for name, _columns, _unique in indexes:
        op.execute(f'DROP INDEX "{name}"')  # the copy goes faster without them; the new table gets them after
    return indexes


def _own_sequence(bind: sa.Connection, old: str) -> None:
    """The id sequence (``old``'s until now) belongs to the new table, so dropping ``old`` keeps it."""
    sequence = bind.execute(sa.text(f"SELECT pg_get_serial_sequence('{old}', 'id')")).scalar()
    if sequence is not None:
        op.execute(f"ALTER SEQUENCE {sequence} OWNED BY {TABLE}.id")


def _copy_and_drop(bind: sa.Connection, old: str, indexes: list[tuple[str, list[str], bool]]) -> None:
    op.execute(f"INSERT INTO {TABLE} SELECT * FROM {old}")
    for name, columns, unique in indexes:
        op.create_index(name, TABLE, columns, unique=unique)
    op.execute(f"DROP TABLE {old}")
