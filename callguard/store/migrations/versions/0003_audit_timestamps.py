"""Audit timestamps on SQLite in SQLAlchemy's storage format.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

The audit writer bound ``decided_at`` through sqlite3's own datetime adapter, which stores
``isoformat(" ")``: ``2026-12-03 14:19:55.289101+00:00``, and without the fraction when it is
zero. Everything else (and now the writer) stores SQLAlchemy's ``2026-12-03 14:19:55.289101``,
and time ranges compare the text: this rewrites the rows of the old form. PostgreSQL stores a
``timestamptz`` either way and is left alone.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # "YYYY-MM-DD HH:MM:SS+00:00" (25 characters) gains ".000000"; "YYYY-MM-DD HH:MM:SS.ffffff+00:00" loses its offset.
    op.execute(
        "UPDATE callguard_decisions SET decided_at = CASE length(decided_at)"
        " WHEN 25 THEN substr(decided_at, 1, 19) || '.000000' ELSE substr(decided_at, 1, 26) END"
        " WHERE decided_at LIKE '%+00:00'"
    )


def downgrade() -> None:
    pass  # both forms read back as the same instant
