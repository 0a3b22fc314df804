"""Complaints about calls, kept durably (SQLAlchemy Core, SQLite or PostgreSQL).

A complaint is recorded with the opt-out it stands for, in one transaction: the callee who
complained is opted out of every campaign of the calling account's family (source
``complaint``), and each is written to the change log in that transaction too, so ``add``
returns only once both are committed and every worker and host refuses the next telemarketing
call to that callee. The complaints are also what the ``[traffic.complaints]`` thresholds count
(:class:`~callguard.traffic.complaints.ComplaintCounts`): windows of 30 days and more, past what
the traffic counters keep, counted with one indexed read when a complaint comes in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from ..clock import utc_datetime
from ..records import Complaint
from ..traffic.complaints import CALLER_ID, ComplaintScope
from .changes import record_change
from .database import connection, transaction
from .optouts import OptOutStore
from .schema import aware, complaints


@dataclass(frozen=True)
class NewComplaint:
    """A complaint to record (its id and recording time are the store's)."""

    number: str
    caller_id: str
    account_sid: str
    family: str
    campaign: str | None
    source: str
    received_at: float
    note: str | None = None


def _row(row: object) -> Complaint:
    m = row._mapping  # type: ignore[attr-defined]
    return Complaint(
        id=m["id"],
        number=m["number"],
        caller_id=m["caller_id"],
        account_sid=m["account_sid"],
        family=m["family"],
        campaign=m["campaign"],
        source=m["source"],
        received_at=aware(m["received_at"]).timestamp(),  # type: ignore[union-attr]
        created_at=aware(m["created_at"]).timestamp(),  # type: ignore[union-attr]
        note=m["note"],
    )


def _in_scope(scope: ComplaintScope) -> tuple[ColumnElement[bool], ...]:
    if scope.kind == CALLER_ID:
        return complaints.c.account_sid == scope.account_sid, complaints.c.caller_id == scope.subject
    return complaints.c.family == scope.account_sid, complaints.c.campaign == scope.subject


def _fired(scope: ComplaintScope) -> ColumnElement[bool]:
    return complaints.c.fired_caller_id if scope.kind == CALLER_ID else complaints.c.fired_campaign


class ComplaintStore:
    """Complaints in the ``callguard_complaints`` table, each with its opt-out in ``callguard_optouts``."""

    def __init__(self, engine: Engine, optouts: OptOutStore) -> None:
        self.engine = engine
        self.optouts = optouts

    def add(self, new: NewComplaint, *, now: float, actor: str) -> tuple[Complaint, bool]:
        """Record a complaint and its opt-out; the complaint, and whether the opt-out was new.

        Returns only after the commit.
        """
        with transaction(self.engine, "complaint insert") as conn:
            complaint, opted_out = self._insert(conn, new, now, actor)
        self.optouts.announce(new.number, new.family)
        return complaint, opted_out

    def add_many(self, entries: Sequence[NewComplaint], *, now: float, actor: str) -> list[Complaint]:
        """Record complaints and their opt-outs in one transaction (an import): all or none."""
        with transaction(self.engine, "complaint import") as conn:
            added = [self._insert(conn, new, now, actor)[0] for new in entries]
        for family in sorted({new.family for new in entries}):
            self.optouts.announce(None, family)
        return added

    def _insert(self, conn: Connection, new: NewComplaint, now: float, actor: str) -> tuple[Complaint, bool]:
        result = conn.execute(
            insert(complaints).values(
                number=new.number, caller_id=new.caller_id, account_sid=new.account_sid, family=new.family, campaign=new.campaign,
                source=new.source, received_at=utc_datetime(new.received_at), created_at=utc_datetime(now), created_by=actor[:128],
                note=new.note, fired_caller_id=False, fired_campaign=False,
            )
        )
        key = result.inserted_primary_key
        assert key is not None  # the INSERT of one row
        complaint = Complaint(
            int(key[0]), new.number, new.caller_id, new.account_sid, new.family, new.campaign, new.source, new.received_at, now, new.note
        )
        record_change(
            conn, now=now, actor=actor, entity="complaint", entity_id=str(complaint.id), action="create", before=None,
            after=complaint.as_record(),
        )
        opted_out = self.optouts.add_within(
            conn, new.number, new.family, source="complaint", now=now, note=f"complaint {complaint.id} ({new.source})", actor=actor
        )
        return complaint, opted_out

    def get(self, complaint_id: int) -> Complaint | None:
        with connection(self.engine, "complaint lookup") as conn:
            row = conn.execute(select(complaints).where(complaints.c.id == complaint_id)).first()
        return _row(row) if row is not None else None

    def list(
        self,
        *,
        account_sid: str | None = None,
        family: str | None = None,
        caller_id: str | None = None,
        campaign: str | None = None,
        since: float | None = None,
        before_id: int | None = None,
        limit: int | None = None,
    ) -> list[Complaint]:
        """Complaints newest first, filtered (``since``: received at or after it)."""
        query = select(complaints).order_by(complaints.c.id.desc())
        for column, value in (
            (complaints.c.account_sid, account_sid), (complaints.c.family, family), (complaints.c.caller_id, caller_id),
            (complaints.c.campaign, campaign),
        ):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(complaints.c.received_at >= utc_datetime(since))
        if before_id is not None:
            query = query.where(complaints.c.id < before_id)
        if limit is not None:
            query = query.limit(limit)
        with connection(self.engine, "complaint list") as conn:
            return [_row(row) for row in conn.execute(query)]

    # -- what the thresholds count (callguard.traffic.complaints.ComplaintCounts) ----------------

    def count_since_fired(self, scope: ComplaintScope, received_since: float) -> tuple[int, int | None]:
        where = _in_scope(scope)
        last_fired = select(func.coalesce(func.max(complaints.c.id), 0)).where(*where, _fired(scope).is_(True)).scalar_subquery()
        query = select(func.count(), func.max(complaints.c.id)).where(
            *where, complaints.c.received_at >= utc_datetime(received_since), complaints.c.id > last_fired
        )
        with connection(self.engine, "complaint count") as conn:
            count, newest = conn.execute(query).one()
        return int(count), newest

    def mark_fired(self, scope: ComplaintScope, complaint_id: int) -> bool:
        fired = _fired(scope)
        with transaction(self.engine, "complaint threshold") as conn:
            # Conditional, so of two hosts that counted the same complaints only one acts on them.
            marked = conn.execute(
                update(complaints).where(complaints.c.id == complaint_id, fired.is_(False)).values({fired.name: True})
            ).rowcount
        return bool(marked)
