"""The tables callguard keeps (SQLAlchemy Core).

A change here needs a migration in ``migrations/versions`` (see :mod:`callguard.store.migrate`);
tests/store/test_migrate.py fails until the migrated schema matches these tables again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY, so the 64-bit id is INTEGER there.
_ID = BigInteger().with_variant(Integer, "sqlite")

decisions = Table(
    "callguard_decisions",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("decided_at", DateTime(timezone=True), nullable=False, index=True),
    Column("account_sid", String(34), index=True),
    Column("call_sid", String(64), index=True),
    Column("action", String(16), nullable=False),
    Column("reasons", String(512), nullable=False),
    Column("sentence", Text, nullable=False),
    Column("to_raw", String(300)),
    Column("from_raw", String(300)),
    Column("target_kind", String(16)),
    Column("e164", String(32), index=True),
    Column("caller_id", String(32)),
    Column("region", String(8)),
    Column("country_code", Integer),
    Column("number_type", String(32)),
    Column("risk", String(32)),
    Column("checks", String(200)),
    Column("source", String(16)),
    Column("sip_domain", String(255)),
    Column("campaign", String(64)),
    Column("elapsed_us", Float),
    Column("fault", Text),
)

# "*" in the campaign column means every campaign of the account family: SQL unique
# constraints treat NULLs as distinct, and an opt-out must be recorded once.

optouts = Table(
    "callguard_optouts",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("number", String(32), nullable=False),
    Column("account_sid", String(34), nullable=False),  # the root of the account family
    Column("campaign", String(64), nullable=False),
    Column("source", String(16), nullable=False),  # prompt, import, admin, api
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("call_sid", String(64)),
    Column("note", Text),
    UniqueConstraint("number", "account_sid", "campaign", name="uq_callguard_optouts_scope"),
)
Index("ix_callguard_optouts_lookup", optouts.c.number, optouts.c.account_sid)

consents = Table(
    "callguard_consents",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("number", String(32), nullable=False),
    Column("account_sid", String(34), nullable=False),
    Column("campaign", String(64), nullable=False),
    Column("kind", String(64), nullable=False),  # prior_express_written, prior_express, established_business …
    Column("obtained_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("evidence", Text),  # where the proof is kept: a URL, a document ID
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_reason", Text),
)
Index("ix_callguard_consents_lookup", consents.c.number, consents.c.account_sid)

# Complaints about calls (callguard.store.complaints). Each records an opt-out in its own
# transaction; fired_caller_id / fired_campaign mark the complaint that made its caller ID's or
# campaign's count reach the [traffic.complaints] limit, after which counting starts afresh.
complaints = Table(
    "callguard_complaints",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("number", String(32), nullable=False),  # the callee who complained, E.164
    Column("caller_id", String(32), nullable=False),
    Column("account_sid", String(34), nullable=False),  # the account that placed the call
    Column("family", String(34), nullable=False),  # its root
    Column("campaign", String(64)),
    Column("source", String(16), nullable=False),  # consumer, carrier, regulator, other
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("note", Text),
    Column("fired_caller_id", Boolean, nullable=False),
    Column("fired_campaign", Boolean, nullable=False),
)
Index("ix_callguard_complaints_caller_id", complaints.c.account_sid, complaints.c.caller_id)
Index("ix_callguard_complaints_campaign", complaints.c.family, complaints.c.campaign)
Index("ix_callguard_complaints_received_at", complaints.c.received_at)

# Runtime changes laid over the policy file (callguard.policy.overrides). Every change bumps the
# single row of callguard_policy_version in the same transaction, which is what each worker and
# host polls to pick changes up within a second.
account_states = Table(
    "callguard_account_states",
    metadata,
    Column("account_sid", String(34), primary_key=True),
    Column("suspended", Boolean, nullable=False),
    Column("reason", Text),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", String(128), nullable=False),
)

runtime_blocks = Table(
    "callguard_runtime_blocks",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("prefix", String(16), nullable=False),
    Column("account_sid", String(34)),  # None: every account
    Column("reason", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("lifted_at", DateTime(timezone=True)),
    Column("lifted_by", String(128)),
)

permission_overrides = Table(
    "callguard_permission_overrides",
    metadata,
    Column("account_sid", String(34), primary_key=True),
    Column("geo_key", String(8), primary_key=True),  # ISO region, or "+<code>" for non-geographic numbers
    Column("low_risk", Boolean, nullable=False),
    Column("high_risk_special", Boolean, nullable=False),
    Column("high_risk_tollfraud", Boolean, nullable=False),
    Column("direct_request", Boolean, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", String(128), nullable=False),
)

policy_version = Table(
    "callguard_policy_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)

# Who changed what, when, from what to what: every runtime change, whatever made it.
changes = Table(
    "callguard_changes",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(128), nullable=False),
    Column("entity", String(32), nullable=False),
    Column("entity_id", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("before", Text),  # JSON
    Column("after", Text),  # JSON
)

# Twilio's picture of the synced accounts (callguard.sync), written by whichever process holds
# the sync lease and read by every worker. Each write bumps row TWILIO_SNAPSHOT_VERSION of
# callguard_policy_version in the same transaction; workers poll it as they poll row 1.
TWILIO_SNAPSHOT_VERSION = 2

twilio_accounts = Table(
    "callguard_twilio_accounts",
    metadata,
    Column("account_sid", String(34), primary_key=True),
    Column("owner_account_sid", String(34)),  # Twilio's parent; a main account's is its own SID
    Column("friendly_name", String(255)),
    Column("status", String(16)),  # active, suspended, closed
    Column("inherits_permissions", Boolean, nullable=False),  # Voice Settings dialing_permissions_inheritance
    Column("synced_at", DateTime(timezone=True)),  # last complete read; None: listed by Twilio, not synced
    Column("attempted_at", DateTime(timezone=True)),  # last attempt to read it in full
    Column("last_error", Text),  # None when the last attempt succeeded
)

twilio_numbers = Table(
    "callguard_twilio_numbers",
    metadata,
    Column("account_sid", String(34), primary_key=True),
    Column("number", String(32), primary_key=True),  # E.164
    Column("kind", String(16), primary_key=True),  # "incoming" (IncomingPhoneNumbers) or "verified" (OutgoingCallerIds)
)

twilio_countries = Table(
    "callguard_twilio_countries",
    metadata,
    Column("account_sid", String(34), primary_key=True),
    Column("iso_code", String(8), primary_key=True),
    Column("country_codes", String(255), nullable=False),  # Twilio's country_codes, comma-separated: "+1,+1876"
    Column("low_risk_numbers_enabled", Boolean, nullable=False),
    Column("high_risk_special_numbers_enabled", Boolean, nullable=False),
    Column("high_risk_tollfraud_numbers_enabled", Boolean, nullable=False),
)

twilio_special_prefixes = Table(
    "callguard_twilio_special_prefixes",
    metadata,
    Column("prefix", String(16), primary_key=True),  # E.164 prefix, e.g. "+37181"
    Column("iso_code", String(8), nullable=False, index=True),
)

# Who runs a scheduled job, and when it is next due: a run holds the lease until held_until, so
# one process at a time runs it across every worker and host sharing the database.
leases = Table(
    "callguard_leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128)),
    Column("held_until", DateTime(timezone=True), nullable=False),
    Column("next_run_at", DateTime(timezone=True), nullable=False),
)

# Lengths of the bounded string columns, for clipping values before they reach the database.
COLUMN_LENGTHS = {c.name: c.type.length for c in decisions.columns if isinstance(c.type, String) and c.type.length}


def aware(value: datetime | None) -> datetime | None:
    """A datetime read back from the database as aware UTC (SQLite returns naive UTC)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
