"""Durable records (SQLAlchemy Core on SQLite or PostgreSQL)."""

from .audit import AuditRecord, AuditStats, BatchingAuditLog, SqlAuditLog, decision_row
from .database import create_database_engine, default_database_url, redact_url
from .migrate import ensure_schema
from .schema import decisions, metadata

__all__ = [
    "AuditRecord",
    "AuditStats",
    "BatchingAuditLog",
    "SqlAuditLog",
    "create_database_engine",
    "decision_row",
    "decisions",
    "default_database_url",
    "ensure_schema",
    "metadata",
    "redact_url",
]
