"""The change log: who changed what, when, from what to what (``callguard_changes``).

Every store that changes a record writes its change-log row in the same transaction as the
change itself, so a change is never made without its record, nor recorded without being made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine

from ..clock import utc_datetime
from .database import connection, transaction
from .schema import aware, changes


@dataclass(frozen=True)
class Change:
    id: int
    at: float
    actor: str
    entity: str
    entity_id: str
    action: str
    before: Any
    after: Any


def record_change(conn: Connection, *, now: float, actor: str, entity: str, entity_id: str, action: str, before: Any, after: Any) -> None:
    """Append to the change log inside the caller's transaction (``before``/``after``: JSON-able)."""
    conn.execute(
        insert(changes).values(
            at=utc_datetime(now),
            actor=actor[:128],
            entity=entity,
            entity_id=entity_id[:128],
            action=action,
            before=json.dumps(before) if before is not None else None,
            after=json.dumps(after) if after is not None else None,
        )
    )


def log_change(engine: Engine, *, now: float, actor: str, entity: str, entity_id: str, action: str, before: Any, after: Any) -> None:
    """Record, in a transaction of its own, a change made outside the records database (the
    traffic counters' blocks and throttles, which live in SQLite counters or Redis)."""
    with transaction(engine, "change log") as conn:
        record_change(conn, now=now, actor=actor, entity=entity, entity_id=entity_id, action=action, before=before, after=after)


def list_changes(engine: Engine, *, limit: int = 100, entity: str | None = None) -> list[Change]:
    """The newest changes first."""
    query = select(changes).order_by(changes.c.id.desc()).limit(limit)
    if entity is not None:
        query = query.where(changes.c.entity == entity)
    with connection(engine, "changes list") as conn:
        return [
            Change(
                row.id,
                aware(row.at).timestamp(),  # type: ignore[union-attr]
                row.actor,
                row.entity,
                row.entity_id,
                row.action,
                json.loads(row.before) if row.before else None,
                json.loads(row.after) if row.after else None,
            )
            for row in conn.execute(query)
        ]
