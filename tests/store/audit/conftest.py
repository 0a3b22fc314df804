"""The audit log's fixtures: a schema on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from callguard.store import SqlAuditLog, create_database_engine, ensure_schema


@pytest.fixture
def audit_sql(database_url: str) -> Iterator[SqlAuditLog]:
    engine = create_database_engine(database_url)
    ensure_schema(engine)
    yield SqlAuditLog(engine)
    engine.dispose()
