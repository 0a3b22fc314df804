"""The internal Do-Not-Call list: opt-outs, kept durably (SQLAlchemy Core, SQLite or PostgreSQL).

An opt-out is keyed by number, account family (the root account: an opt-out given to one
subaccount binds the whole family) and campaign (``*`` for every campaign). ``add`` returns only
after the row is committed, because the callee is told "you have been removed" only then, and
revokes, in the same transaction, the consent records that the opt-out covers. Lookups read the
database every time: the next call, through any worker or host, must see the opt-out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, Engine

from ..clock import utc_datetime
from .database import connection, insert_ignoring_duplicates, transaction
from .schema import EVERY_CAMPAIGN, aware, consents, optouts

SOURCES = ("prompt", "import", "admin", "api")


@dataclass(frozen=True)
class OptOut:
    number: str
    account_sid: str
    campaign: str  # "*" = every campaign of the family
    source: str
    created_at: float
    call_sid: str | None = None
    note: str | None = None

    @property
    def scope(self) -> str:
        return "every campaign" if self.campaign == EVERY_CAMPAIGN else f"campaign {self.campaign}"


def _row(row: object) -> OptOut:
    m = row._mapping  # type: ignore[attr-defined]
    return OptOut(
        number=m["number"],
        account_sid=m["account_sid"],
        campaign=m["campaign"],
        source=m["source"],
        created_at=aware(m["created_at"]).timestamp(),  # type: ignore[union-attr]
        call_sid=m["call_sid"],
        note=m["note"],
    )


class OptOutStore:
    """Opt-outs in the ``callguard_optouts`` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def find(self, number: str, account_sid: str, campaign: str | None) -> OptOut | None:
        """The opt-out that stops ``campaign`` (or, with None, a family-wide one) calling ``number``."""
        scopes = [EVERY_CAMPAIGN] if campaign is None else [EVERY_CAMPAIGN, campaign]
        query = (
            select(optouts)
            .where(optouts.c.number == number, optouts.c.account_sid == account_sid, optouts.c.campaign.in_(scopes))
            .order_by(optouts.c.id)
            .limit(1)
        )
        with connection(self.engine, "opt-out lookup") as conn:
            row = conn.execute(query).first()
        return _row(row) if row is not None else None

    def add(
        self,
        number: str,
        account_sid: str,
        *,
        campaign: str | None = None,
        source: str = "admin",
        now: float,
        call_sid: str | None = None,
        note: str | None = None,
    ) -> bool:
        """Record an opt-out durably; True if new, False if it was already there. Revokes covered consent.

        Returns only after the commit, so a caller may then tell the callee it is done.
        """
        with transaction(self.engine, "opt-out insert") as conn:
            return self._insert(conn, number, account_sid, campaign, source, now, call_sid, note)

    def add_many(self, entries: Iterable[tuple[str, str | None]], account_sid: str, *, source: str, now: float) -> int:
        """Record (number, campaign) opt-outs in one transaction; returns how many were new."""
        with transaction(self.engine, "opt-out import") as conn:
            return sum(self._insert(conn, number, account_sid, campaign, source, now, None, None) for number, campaign in entries)

    def _insert(
        self,
        conn: Connection,
        number: str,
        account_sid: str,
        campaign: str | None,
        source: str,
        now: float,
        call_sid: str | None,
        note: str | None,
    ) -> bool:
        scope = campaign or EVERY_CAMPAIGN
        at = utc_datetime(now)
        # RETURNING tells whether the row went in: rowcount is unreliable once SQLAlchemy adds
        # its own RETURNING for the primary key (it does on PostgreSQL).
        inserted = conn.execute(
            insert_ignoring_duplicates(self.engine, optouts)
            .values(number=number, account_sid=account_sid, campaign=scope, source=source, created_at=at, call_sid=call_sid, note=note)
            .returning(optouts.c.id)
        ).first()
        # Consent given before the opt-out, for what the opt-out covers, is revoked by it.
        covered = [consents.c.campaign == scope] if scope != EVERY_CAMPAIGN else []
        conn.execute(
            update(consents)
            .where(
                consents.c.number == number,
                consents.c.account_sid == account_sid,
                consents.c.revoked_at.is_(None),
                consents.c.obtained_at <= at,
                *covered,
            )
            .values(revoked_at=at, revoked_reason=f"opt-out ({source})")
        )
        return inserted is not None

    def remove(self, number: str, account_sid: str, *, campaign: str | None = None) -> bool:
        """Delete an opt-out (an administrator's correction); True if there was one."""
        with transaction(self.engine, "opt-out delete") as conn:
            result = conn.execute(
                delete(optouts).where(
                    optouts.c.number == number,
                    optouts.c.account_sid == account_sid,
                    optouts.c.campaign == (campaign or EVERY_CAMPAIGN),
                )
            )
        return bool(result.rowcount)

    def list(self, *, account_sid: str | None = None, number: str | None = None, limit: int | None = None) -> list[OptOut]:
        query = select(optouts).order_by(optouts.c.id)
        if account_sid is not None:
            query = query.where(optouts.c.account_sid == account_sid)
        if number is not None:
            query = query.where(optouts.c.number == number)
        if limit is not None:
            query = query.limit(limit)
        with connection(self.engine, "opt-out list") as conn:
            return [_row(row) for row in conn.execute(query)]
