"""Consent records: proof that a callee agreed to be called, which lets a telemarketing campaign
call a number on a national Do-Not-Call registry. An opt-out always wins over consent (the
opt-out check runs first) and revokes consent given before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Engine

from ..clock import utc_datetime
from .database import connection, transaction
from .schema import EVERY_CAMPAIGN, aware, consents

KINDS = ("prior_express_written", "prior_express", "established_business_relationship", "inquiry", "other")


@dataclass(frozen=True)
class Consent:
    id: int
    number: str
    account_sid: str
    campaign: str
    kind: str
    obtained_at: float
    expires_at: float | None
    evidence: str | None
    revoked_at: float | None

    def valid_at(self, now: float) -> bool:
        return self.revoked_at is None and self.obtained_at <= now and (self.expires_at is None or now < self.expires_at)


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


class ConsentStore:
    """Consent records in the ``callguard_consents`` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def find_valid(self, number: str, account_sid: str, campaign: str | None, now: float) -> Consent | None:
        """A consent that lets ``campaign`` call ``number`` at ``now`` (not revoked, not expired)."""
        at = utc_datetime(now)
        scopes = [EVERY_CAMPAIGN] if campaign is None else [EVERY_CAMPAIGN, campaign]
        query = (
            select(consents)
            .where(
                consents.c.number == number,
                consents.c.account_sid == account_sid,
                consents.c.campaign.in_(scopes),
                consents.c.revoked_at.is_(None),
                consents.c.obtained_at <= at,
                or_(consents.c.expires_at.is_(None), consents.c.expires_at > at),
            )
            .order_by(consents.c.id)
            .limit(1)
        )
        with connection(self.engine, "consent lookup") as conn:
            row = conn.execute(query).first()
        return _row(row) if row is not None else None

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
            return int(result.inserted_primary_key[0])

    def revoke(self, consent_id: int, *, now: float, reason: str) -> bool:
        with transaction(self.engine, "consent revoke") as conn:
            result = conn.execute(
                update(consents)
                .where(consents.c.id == consent_id, consents.c.revoked_at.is_(None))
                .values(revoked_at=utc_datetime(now), revoked_reason=reason)
            )
        return bool(result.rowcount)

    def list(self, *, account_sid: str | None = None, number: str | None = None) -> list[Consent]:
        query = select(consents).order_by(consents.c.id)
        if account_sid is not None:
            query = query.where(consents.c.account_sid == account_sid)
        if number is not None:
            query = query.where(consents.c.number == number)
        with connection(self.engine, "consent list") as conn:
            return [_row(row) for row in conn.execute(query)]
