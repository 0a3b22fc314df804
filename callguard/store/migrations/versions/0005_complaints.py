"""Complaints about calls: the table they are recorded in and counted from.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

A new table, ``callguard_complaints`` (see :mod:`callguard.store.complaints`); nothing else
changes. A database made by ``metadata.create_all`` already holds it: it is adopted, as in the baseline.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from callguard.store.schema_adoption import TableSpec, create_or_adopt

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLE = "callguard_complaints"


def _tables() -> list[TableSpec]:
    return [
        (
            TABLE,
            [
                sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
                sa.Column("number", sa.String(length=32), nullable=False),
                sa.Column("caller_id", sa.String(length=32), nullable=False),
                sa.Column("account_sid", sa.String(length=34), nullable=False),
                sa.Column("family", sa.String(length=34), nullable=False),
                sa.Column("campaign", sa.String(length=64), nullable=True),
                sa.Column("source", sa.String(length=16), nullable=False),
                sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("created_by", sa.String(length=128), nullable=False),
                sa.Column("note", sa.Text(), nullable=True),
                sa.Column("fired_caller_id", sa.Boolean(), nullable=False),
                sa.Column("fired_campaign", sa.Boolean(), nullable=False),
                sa.PrimaryKeyConstraint("id"),
            ],
            [
                ("ix_callguard_complaints_caller_id", ["account_sid", "caller_id"], False),
                ("ix_callguard_complaints_campaign", ["family", "campaign"], False),
                ("ix_callguard_complaints_received_at", ["received_at"], False),
            ],
        )
    ]


def upgrade() -> None:
    create_or_adopt(_tables(), revision=revision)


def downgrade() -> None:
    op.drop_table(TABLE)
