"""The internal Do-Not-Call list: opt-outs, kept durably (SQLAlchemy Core, SQLite or PostgreSQL).

An opt-out is keyed by number, account family (the root account: an opt-out given to one
subaccount binds the whole family) and campaign (``*`` for every campaign). ``add`` returns only
after the row is committed, because the callee is told "you have been removed" only then, and
revokes, in the same transaction, the consent records that the opt-out covers; each change is
written to the change log in that transaction too. Lookups read the database every time: the
next call, through any worker or host, must see the opt-out (what is remembered of past lookups
only serves while the database is unreachable: :mod:`callguard.store.last_good`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Connection, Engine

from ..clock import utc_datetime
from ..records import EVERY_CAMPAIGN, OptOut, choose_optout
from .change_notices import OPTOUT, ChangeNotice, ChangePublisher
from .changes import record_change
from .database import connection, insert_ignoring_duplicates, transaction
from .schema import aware, consents, optouts


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


# Built once: it is on the hot path of telemarketing calls, where building the statement each
# time took longer than running it does on SQLite.
_FIND_ALL = (
    select(optouts)
    .where(optouts.c.number == bindparam("number"), optouts.c.account_sid == bindparam("account_sid"))
    .order_by(optouts.c.id)
)


class OptOutStore:
    """Opt-outs in the ``callguard_optouts`` table."""

    def __init__(self, engine: Engine, *, publisher: ChangePublisher | None = None) -> None:
        self.engine = engine
        self.publisher = publisher

    def find(self, number: str, account_sid: str, campaign: str | None) -> OptOut | None:
        """The opt-out that stops ``campaign`` (or, with None, a family-wide one) calling ``number``."""
        return choose_optout(self.find_all(number, account_sid), campaign)

    def find_all(self, number: str, account_sid: str) -> tuple[OptOut, ...]:
        """Every opt-out of ``number`` from the family ``account_sid``, oldest first (one indexed read)."""
        with connection(self.engine, "opt-out lookup") as conn:
            return tuple(_row(row) for row in conn.execute(_FIND_ALL, {"number": number, "account_sid": account_sid}))

    def _published(self, number: str | None, account_sid: str) -> None:
        if self.publisher is not None:
            self.publisher.publish(ChangeNotice(OPTOUT, number, account_sid))

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
        actor: str | None = None,
    ) -> bool:
        """Record an opt-out durably; True if new, False if it was already there. Revokes covered consent.

        Returns only after the commit, so a caller may then tell the callee it is done. The change
        log names ``actor`` (default: the source).
        """
        with transaction(self.engine, "opt-out insert") as conn:
            added = self._insert(conn, number, account_sid, campaign, source, now, call_sid, note, actor or source, log_created=True)
        self._published(number, account_sid)
        return added

    def add_within(
        self, conn: Connection, number: str, account_sid: str, *, source: str, now: float, note: str | None, actor: str
    ) -> bool:
        """Record a family-wide opt-out inside the caller's transaction (a complaint's), as :meth:`add`
        does; the caller calls :meth:`announce` once it is committed."""
        return self._insert(conn, number, account_sid, None, source, now, None, note, actor, log_created=True)

    def announce(self, number: str | None, account_sid: str) -> None:
        """Tell the other workers and hosts that ``number``'s opt-outs (None: many) changed."""
        self._published(number, account_sid)

    def add_many(
        self, entries: Iterable[tuple[str, str | None]], account_sid: str, *, source: str, now: float, actor: str | None = None
    ) -> int:
        """Record (number, campaign) opt-outs in one transaction; returns how many were new.

        The change log gets one entry for the whole import (each opt-out row keeps its source and
        time), and one for each consent the import revokes.
        """
        with transaction(self.engine, "opt-out import") as conn:
            added = sum(
                self._insert(conn, number, account_sid, campaign, source, now, None, None, actor or source, log_created=False)
                for number, campaign in entries
            )
            record_change(
                conn, now=now, actor=actor or source, entity="optout", entity_id=account_sid, action="import", before=None,
                after={"added": added, "source": source},
            )
        self._published(None, account_sid)
        return added

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
        actor: str,
        *,
        log_created: bool,
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
        reason = f"opt-out ({source})"
        revoked = conn.execute(
            update(consents)
            .where(
                consents.c.number == number,
                consents.c.account_sid == account_sid,
                consents.c.revoked_at.is_(None),
                consents.c.obtained_at <= at,
                *covered,
            )
            .values(revoked_at=at, revoked_reason=reason)
            .returning(consents.c.id)
        ).scalars().all()
        if inserted is not None and log_created:
            after = OptOut(number, account_sid, scope, source, now, call_sid, note).as_record()
            record_change(
                conn, now=now, actor=actor, entity="optout", entity_id=f"{account_sid}/{number}", action="create", before=None, after=after
            )
        for consent_id in revoked:
            record_change(
                conn, now=now, actor=actor, entity="consent", entity_id=str(consent_id), action="revoke",
                before={"revoked_at": None}, after={"revoked_at": at.isoformat(), "revoked_reason": reason},
            )
        return inserted is not None

    def remove(self, number: str, account_sid: str, *, campaign: str | None = None, actor: str = "admin", now: float) -> bool:
        """Delete an opt-out (an administrator's correction); True if there was one."""
        where = (optouts.c.number == number, optouts.c.account_sid == account_sid, optouts.c.campaign == (campaign or EVERY_CAMPAIGN))
        with transaction(self.engine, "opt-out delete") as conn:
            row = conn.execute(select(optouts).where(*where)).first()
            # Checked again by the delete, so of two removals at once only one takes (and is logged).
            if row is None or not conn.execute(delete(optouts).where(*where)).rowcount:
                return False
            record_change(
                conn, now=now, actor=actor, entity="optout", entity_id=f"{account_sid}/{number}", action="delete",
                before=_row(row).as_record(), after=None,
            )
        self._published(number, account_sid)
        return True

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
