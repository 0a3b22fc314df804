"""Reads and synchronous writes of the audit log (``callguard_decisions``).

:class:`SqlAuditLog` is the audit sink of ``CALLGUARD_AUDIT_MODE=sync`` and of the CLI, and what
every reader uses: the newest rows, filtered queries (the dashboard, ``/v1/decisions``), a count,
and the ping /healthz times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine

from ...clock import utc_datetime
from ...decision import Decision
from ..database import connection, transaction
from ..schema import decisions
from .insert import DriverInsert
from .rows import DECISION_COLUMNS, decision_values


@dataclass(frozen=True)
class AuditRecord:
    """One row of the audit log as read back."""

    id: int
    decided_at: float
    account_sid: str | None
    call_sid: str | None
    action: str
    reasons: tuple[str, ...]
    sentence: str
    to_raw: str | None
    from_raw: str | None
    e164: str | None
    caller_id: str | None
    region: str | None
    risk: str | None
    checks: tuple[str, ...]
    source: str | None
    fault: str | None
    campaign: str | None = None


class SqlAuditLog:
    """Synchronous reads and writes of the ``callguard_decisions`` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert = DriverInsert(engine, DECISION_COLUMNS)

    def record(self, decision: Decision) -> None:
        self.write_values([decision_values(decision)])

    def write_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Write rows given by column name, as :func:`decision_row` makes them."""
        self.write_values([[row[c] for c in DECISION_COLUMNS] for row in rows])

    def write_values(self, rows: Sequence[list[Any]]) -> None:
        """Write rows given as :func:`decision_values` makes them, in one transaction."""
        if not rows:
            return
        with transaction(self.engine, "audit insert") as conn:
            self._insert.execute(conn, rows)

    def recent(self, limit: int = 100, *, account_sid: str | None = None, call_sid: str | None = None) -> list[AuditRecord]:
        """The newest rows first."""
        query = select(decisions).order_by(decisions.c.id.desc()).limit(limit)
        if account_sid is not None:
            query = query.where(decisions.c.account_sid == account_sid)
        if call_sid is not None:
            query = query.where(decisions.c.call_sid == call_sid)
        with connection(self.engine, "audit query") as conn:
            rows = conn.execute(query).mappings().all()
        return [_record(row) for row in rows]

    def query(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        number: str | None = None,
        account_sid: str | None = None,
        reason: str | None = None,
        action: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[AuditRecord]:
        """Decisions, newest first, filtered; ``before_id`` pages backwards."""
        query = select(decisions).order_by(decisions.c.id.desc()).limit(limit)
        if since is not None:
            query = query.where(decisions.c.decided_at >= utc_datetime(since))
        if until is not None:
            query = query.where(decisions.c.decided_at < utc_datetime(until))
        if number is not None:
            query = query.where(decisions.c.e164 == number)
        if account_sid is not None:
            query = query.where(decisions.c.account_sid == account_sid)
        if action is not None:
            query = query.where(decisions.c.action == action)
        if before_id is not None:
            query = query.where(decisions.c.id < before_id)
        if reason is not None:
            # reasons is a comma-separated list: match whole codes only.
            column, code = decisions.c.reasons, like_literal(reason)
            query = query.where(
                or_(
                    column == reason,
                    column.like(f"{code},%", escape="\\"),
                    column.like(f"%,{code}", escape="\\"),
                    column.like(f"%,{code},%", escape="\\"),
                )
            )
        with connection(self.engine, "audit query") as conn:
            return [_record(row) for row in conn.execute(query).mappings()]

    def count(self) -> int:
        with connection(self.engine, "audit count") as conn:
            return int(conn.execute(select(func.count()).select_from(decisions)).scalar_one())

    def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless the database answers."""
        with connection(self.engine, "ping") as conn:
            conn.execute(select(1))


def like_literal(text: str) -> str:
    """``text`` for a LIKE pattern (escape character ``\\``), matching itself only: ``%`` and ``_`` are not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _record(row: Any) -> AuditRecord:
    decided_at = row["decided_at"]
    if decided_at.tzinfo is None:  # SQLite hands back naive UTC
        decided_at = decided_at.replace(tzinfo=UTC)
    return AuditRecord(
        id=row["id"],
        decided_at=decided_at.timestamp(),
        account_sid=row["account_sid"],
        call_sid=row["call_sid"],
        action=row["action"],
        reasons=tuple(r for r in row["reasons"].split(",") if r),
        sentence=row["sentence"],
        to_raw=row["to_raw"],
        from_raw=row["from_raw"],
        e164=row["e164"],
        caller_id=row["caller_id"],
        region=row["region"],
        risk=row["risk"],
        checks=tuple(c for c in (row["checks"] or "").split(",") if c),
        source=row["source"],
        fault=row["fault"],
        campaign=row["campaign"],
    )
