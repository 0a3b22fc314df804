"""A lease row per scheduled job, so one process at a time runs it across workers and hosts.

Every worker of every host tries :meth:`LeaseStore.acquire` on its own schedule; the row says
whether a run is in progress (``held_until``) and when the next one is due (``next_run_at``),
and the conditional ``UPDATE`` lets exactly one of them win (PostgreSQL re-checks the condition
after waiting for a concurrent winner's row lock; SQLite serialises writers). A holder that dies
mid-run loses the lease when ``held_until`` passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from ..clock import utc_datetime
from .database import connection, insert_ignoring_duplicates, transaction
from .schema import aware, leases

_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str | None
    held_until: float
    next_run_at: float


class LeaseStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def acquire(self, name: str, holder: str, *, now: float, hold_for: float, force: bool = False) -> bool:
        """Take the lease for ``hold_for`` seconds if no run holds it and the job is due (or ``force``)."""
        with transaction(self.engine, "lease acquire") as conn:
            conn.execute(
                insert_ignoring_duplicates(self.engine, leases).values(name=name, holder=None, held_until=_NEVER, next_run_at=_NEVER)
            )
            conditions = [leases.c.name == name, leases.c.held_until <= utc_datetime(now)]
            if not force:
                conditions.append(leases.c.next_run_at <= utc_datetime(now))
            won = conn.execute(update(leases).where(*conditions).values(holder=holder, held_until=utc_datetime(now + hold_for)))
            return bool(won.rowcount)

    def release(self, name: str, holder: str, *, now: float, next_run_at: float) -> None:
        """End ``holder``'s run and say when the next is due (a lease it no longer holds is left alone)."""
        with transaction(self.engine, "lease release") as conn:
            conn.execute(
                update(leases)
                .where(leases.c.name == name, leases.c.holder == holder)
                .values(held_until=utc_datetime(now), next_run_at=utc_datetime(next_run_at))
            )

    def get(self, name: str) -> Lease | None:
        with connection(self.engine, "lease read") as conn:
            row = conn.execute(select(leases).where(leases.c.name == name)).first()
        if row is None:
            return None
        return Lease(row.name, row.holder, aware(row.held_until).timestamp(), aware(row.next_run_at).timestamp())  # type: ignore[union-attr]
