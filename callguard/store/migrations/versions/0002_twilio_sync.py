"""The Twilio sync's tables: each synced account's picture, and the lease that lets one process run it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

A database made by ``metadata.create_all`` of a callguard that had the sync but no migrations
already holds them: they are adopted, as in the baseline.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from callguard.store.schema_adoption import TableSpec, create_or_adopt

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _tables() -> list[TableSpec]:
    return [
        (
            "callguard_twilio_accounts",
            [
                sa.Column("account_sid", sa.String(length=34), nullable=False),
                sa.Column("owner_account_sid", sa.String(length=34), nullable=True),
                sa.Column("friendly_name", sa.String(length=255), nullable=True),
                sa.Column("status", sa.String(length=16), nullable=True),
                sa.Column("inherits_permissions", sa.Boolean(), nullable=False),
                sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
                sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
                sa.Column("last_error", sa.Text(), nullable=True),
                sa.PrimaryKeyConstraint("account_sid"),
            ],
            [],
        ),
        (
            "callguard_twilio_numbers",
            [
                sa.Column("account_sid", sa.String(length=34), nullable=False),
                sa.Column("number", sa.String(length=32), nullable=False),
                sa.Column("kind", sa.String(length=16), nullable=False),
                sa.PrimaryKeyConstraint("account_sid", "number", "kind"),
            ],
            [],
        ),
        (
            "callguard_twilio_countries",
            [
                sa.Column("account_sid", sa.String(length=34), nullable=False),
                sa.Column("iso_code", sa.String(length=8), nullable=False),
                sa.Column("country_codes", sa.String(length=255), nullable=False),
                sa.Column("low_risk_numbers_enabled", sa.Boolean(), nullable=False),
                sa.Column("high_risk_special_numbers_enabled", sa.Boolean(), nullable=False),
                sa.Column("high_risk_tollfraud_numbers_enabled", sa.Boolean(), nullable=False),
                sa.PrimaryKeyConstraint("account_sid", "iso_code"),
            ],
            [],
        ),
        (
            "callguard_twilio_special_prefixes",
            [
                sa.Column("prefix", sa.String(length=16), nullable=False),
                sa.Column("iso_code", sa.String(length=8), nullable=False),
                sa.PrimaryKeyConstraint("prefix"),
            ],
            [("ix_callguard_twilio_special_prefixes_iso_code", ["iso_code"], False)],
        ),
        (
            "callguard_leases",
            [
                sa.Column("name", sa.String(length=64), nullable=False),
                sa.Column("holder", sa.String(length=128), nullable=True),
                sa.Column("held_until", sa.DateTime(timezone=True), nullable=False),
                sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
                sa.PrimaryKeyConstraint("name"),
            ],
            [],
        ),
    ]


def upgrade() -> None:
    create_or_adopt(_tables(), revision=revision)


def downgrade() -> None:
    for name, _items, _indexes in reversed(_tables()):
        op.drop_table(name)
