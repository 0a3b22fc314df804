"""Baseline: every table callguard kept before it had migrations.

Revision ID: 0001
Revises:
Create Date: 2026-05-01

A database made by ``metadata.create_all`` (callguard before migrations) is adopted here: only
the tables it lacks are created, and the ones it has must have every column listed here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from callguard.store.schema_adoption import TableSpec, create_or_adopt

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# SQLite only auto-increments an INTEGER PRIMARY KEY, so the 64-bit id is INTEGER there.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _tables() -> list[TableSpec]:
    """(name, columns and constraints, indexes as (name, columns, unique)) per table; new objects
    on every call, since a column belongs to one table only."""
    return [
        (
            "callguard_decisions",
            [
                sa.Column("id", _ID, autoincrement=True, nullable=False),
                sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("account_sid", sa.String(length=34), nullable=True),
                sa.Column("call_sid", sa.String(length=64), nullable=True),
                sa.Column("action", sa.String(length=16), nullable=False),
                sa.Column("reasons", sa.String(length=512), nullable=False),
                sa.Column("sentence", sa.Text(), nullable=False),
                sa.Column("to_raw", sa.String(length=300), nullable=True),
                sa.Column("from_raw", sa.String(length=300), nullable=True),
                sa.Column("target_kind", sa.String(length=16), nullable=True),
                sa.Column("e164", sa.String(length=32), nullable=True),
                sa.Column("caller_id", sa.String(length=32), nullable=True),
                sa.Column("region", sa.String(length=8), nullable=True),
                sa.Column("country_code", sa.Integer(), nullable=True),
                sa.Column("number_type", sa.String(length=32), nullable=True),
                sa.Column("risk", sa.String(length=32), nullable=True),
                sa.Column("checks", sa.String(length=200), nullable=True),
                sa.Column("source", sa.String(length=16), nullable=True),
                sa.Column("sip_domain", sa.String(length=255), nullable=True),
                sa.Column("campaign", sa.String(length=64), nullable=True),
                sa.Column("elapsed_us", sa.Float(), nullable=True),
                sa.Column("fault", sa.Text(), nullable=True),
                sa.PrimaryKeyConstraint("id"),
            ],
            [
                ("ix_callguard_decisions_account_sid", ["account_sid"], False),
                ("ix_callguard_decisions_call_sid", ["call_sid"], False),
                ("ix_callguard_decisions_decided_at", ["decided_at"], False),
                ("ix_callguard_decisions_e164", ["e164"], False),
            ],
        ),
        (
            "callguard_optouts",
            [
                sa.Column("id", _ID, autoincrement=True, nullable=False),
                sa.Column("number", sa.String(length=32), nullable=False),
                sa.Column("account_sid", sa.String(length=34), nullable=False),
                sa.Column("campaign", sa.String(length=64), nullable=False),
                sa.Column("source", sa.String(length=16), nullable=False),
                sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("call_sid", sa.String(length=64), nullable=True),
                sa.Column("note", sa.Text(), nullable=True),
                sa.PrimaryKeyConstraint("id"),
                sa.UniqueConstraint("number", "account_sid", "campaign", name="uq_callguard_optouts_scope"),
            ],
            [("ix_callguard_optouts_lookup", ["number", "account_sid"], False)],
        ),
        (
            "callguard_consents",
            [
                sa.Column("id", _ID, autoincrement=True, nullable=False),
                sa.Column("number", sa.String(length=32), nullable=False),
                sa.Column("account_sid", sa.String(length=34), nullable=False),
                sa.Column("campaign", sa.String(length=64), nullable=False),
                sa.Column("kind", sa.String(length=64), nullable=False),
                sa.Column("obtained_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
                sa.Column("evidence", sa.Text(), nullable=True),
                sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
                sa.Column("revoked_reason", sa.Text(), nullable=True),
                sa.PrimaryKeyConstraint("id"),
            ],
            [("ix_callguard_consents_lookup", ["number", "account_sid"], False)],
        ),
        (
            "callguard_account_states",
            [
                sa.Column("account_sid", sa.String(length=34), nullable=False),
                sa.Column("suspended", sa.Boolean(), nullable=False),
                sa.Column("reason", sa.Text(), nullable=True),
                sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("changed_by", sa.String(length=128), nullable=False),
                sa.PrimaryKeyConstraint("account_sid"),
            ],
            [],
        ),
        (
            "callguard_runtime_blocks",
            [
                sa.Column("id", _ID, autoincrement=True, nullable=False),
                sa.Column("prefix", sa.String(length=16), nullable=False),
                sa.Column("account_sid", sa.String(length=34), nullable=True),
                sa.Column("reason", sa.Text(), nullable=False),
                sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
                sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("created_by", sa.String(length=128), nullable=False),
                sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
                sa.Column("lifted_by", sa.String(length=128), nullable=True),
                sa.PrimaryKeyConstraint("id"),
            ],
            [],
        ),
        (
            "callguard_permission_overrides",
            [
                sa.Column("account_sid", sa.String(length=34), nullable=False),
                sa.Column("geo_key", sa.String(length=8), nullable=False),
                sa.Column("low_risk", sa.Boolean(), nullable=False),
                sa.Column("high_risk_special", sa.Boolean(), nullable=False),
                sa.Column("high_risk_tollfraud", sa.Boolean(), nullable=False),
                sa.Column("direct_request", sa.Boolean(), nullable=False),
                sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("changed_by", sa.String(length=128), nullable=False),
                sa.PrimaryKeyConstraint("account_sid", "geo_key"),
            ],
            [],
        ),
        (
            "callguard_policy_version",
            [
                sa.Column("id", sa.Integer(), nullable=False),
                sa.Column("version", sa.BigInteger(), nullable=False),
                sa.PrimaryKeyConstraint("id"),
            ],
            [],
        ),
        (
            "callguard_changes",
            [
                sa.Column("id", _ID, autoincrement=True, nullable=False),
                sa.Column("at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("actor", sa.String(length=128), nullable=False),
                sa.Column("entity", sa.String(length=32), nullable=False),
                sa.Column("entity_id", sa.String(length=128), nullable=False),
                sa.Column("action", sa.String(length=32), nullable=False),
                sa.Column("before", sa.Text(), nullable=True),
                sa.Column("after", sa.Text(), nullable=True),
                sa.PrimaryKeyConstraint("id"),
            ],
            [("ix_callguard_changes_at", ["at"], False)],
        ),
    ]


def upgrade() -> None:
    create_or_adopt(_tables(), revision=revision)


def downgrade() -> None:
    for name, _items, _indexes in reversed(_tables()):
        op.drop_table(name)
