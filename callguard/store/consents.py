"""Consent records: proof that a callee agreed to be called, which lets a telemarketing campaign
call a number on a national Do-Not-Call registry. An opt-out always wins over consent (the
opt-out check runs first) and revokes consent given before it. Every change is written to the
change log in the change's own transaction, and lookups read the database every time (what is remembered
of past lookups only serves while the database is unreachable: :mod:`callguard.store.last_good`).
"""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Engine

from ..clock import utc_datetime
from ..records import EVERY_CAMPAIGN, Consent, choose_consent
from .change_notices import CONSENT, ChangeNotice, ChangePublisher
from .changes import record_change
from .database import connection, transaction
from .schema import aware, consents


def _row(row: object) -> Consent:
    m = row._mapping  # type: ignore[attr-defined]
    expires, revoked = aware(m["expires_at"]), aware(m["revoked_at"])
    return Consent(
        id=m["id"],
        number=m["number"],
        account_sid=m["account_sid"],
        campaign=m["campaign"],
        kind=m["kind"],
        obtained_at=aware(m["obtained_at"]).timestamp(),  # type: ignore[union-attr]
        expires_at=expires.timestamp() if expires else None,
        evidence=m["evidence"],
        revoked_at=revoked.timestamp() if revoked else None,
    )


# Built once, as it is read on the hot path (see optouts._FIND_ALL).
_FIND_UNREVOKED = (
    select(consents)
    .where(consents.c.number == bindparam("number"), consents.c.account_sid == bindparam("account_sid"), consents.c.revoked_at.is_(None))
    .order_by(consents.c.id)
)


class ConsentStore:
    """Consent records in the ``callguard_consents`` table."""

    def __init__(self, engine: Engine, *, publisher: ChangePublisher | None = None) -> None:
        self.engine = engine
        self.publisher = publisher

    def find_valid(self, number: str, account_sid: str, campaign: str | None, now: float) -> Consent | None:
        """A consent that lets ``campaign`` call ``number`` at ``now`` (not revoked, not expired)."""
        return choose_consent(self.find_unrevoked(number, account_sid), campaign, now)

    def find_unrevoked(self, number: str, account_sid: str) -> tuple[Consent, ...]:
        """Every consent of ``number`` to the family ``account_sid`` not revoked, oldest first (one indexed read)."""
        with connection(self.engine, "consent lookup") as conn:
            return tuple(_row(row) for row in conn.execute(_FIND_UNREVOKED, {"number": number, "account_sid": account_sid}))

    def _published(self, number: str, account_sid: str) -> None:
        if self.publisher is not None:
            self.publisher.publish(ChangeNotice(CONSENT, number, account_sid))

    def add(
        self,
        number: str,
        account_sid: str,
        *,
        kind: str,
        obtained_at: float,
        now: float,
        campaign: str | None = None,
        expires_at: float | None = None,
        evidence: str | None = None,
        actor: str = "admin",
    ) -> int:
        with transaction(self.engine, "consent insert") as conn:
            result = conn.execute(
                insert(consents).values(
                    number=number,
                    account_sid=account_sid,
                    campaign=campaign or EVERY_CAMPAIGN,
                    kind=kind,
                    obtained_at=utc_datetime(obtained_at),
                    expires_at=utc_datetime(expires_at) if expires_at is not None else None,
                    evidence=evidence,
                    created_at=utc_datetime(now),
                )
            )
            key = result.inserted_primary_key
            assert key is not None  # the INSERT of one row
            consent_id = int(key[0])
            created = Consent(consent_id, number, account_sid, campaign or EVERY_CAMPAIGN, kind, obtained_at, expires_at, evidence, None)
            record_change(
                conn,
                now=now,
                actor=actor,
                entity="consent",
                entity_id=str(consent_id),
                action="create",
                before=None,
                after=created.as_record(),
            )
        self._published(number, account_sid)
        return consent_id

    def revoke(self, consent_id: int, *, now: float, reason: str, actor: str = "admin") -> bool:
        with transaction(self.engine, "consent revoke") as conn:
            in_force = (consents.c.id == consent_id, consents.c.revoked_at.is_(None))
            row = conn.execute(select(consents).where(*in_force)).first()
            # Conditional, so of two revocations at once only one takes (and is logged).
            if (
                row is None
                or not conn.execute(update(consents).where(*in_force).values(revoked_at=utc_datetime(now), revoked_reason=reason)).rowcount
            ):
                return False
            before = _row(row)
            record_change(
                conn,
                now=now,
                actor=actor,
                entity="consent",
                entity_id=str(consent_id),
                action="revoke",
                before=before.as_record(),
                after={**before.as_record(), "revoked_at": utc_datetime(now).isoformat(), "revoked_reason": reason},
            )
        self._published(before.number, before.account_sid)
        return True

    def list(self, *, account_sid: str | None = None, number: str | None = None) -> list[Consent]:
        query = select(consents).order_by(consents.c.id)
        if account_sid is not None:
            query = query.where(consents.c.account_sid == account_sid)
        if number is not None:
            query = query.where(consents.c.number == number)
        with connection(self.engine, "consent list") as conn:
            return [_row(row) for row in conn.execute(query)]
