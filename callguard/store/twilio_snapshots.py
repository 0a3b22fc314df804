"""Twilio's picture of the synced accounts, kept in the records database for every worker and host.

One sync run (in whichever process holds the lease) reads Twilio and :meth:`write`\\ s what it
read, in one transaction that also bumps the snapshot's version; every worker's
:class:`~callguard.runtime.refresh.PolicyRefresher` polls that version and :meth:`load`\\ s the
whole snapshot when it moves, so no worker talks to Twilio on its own and all decide on the
same picture. A failed read leaves an account's last good data in place and records the error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from ..clock import utc_datetime
from ..policy.twilio_snapshot import TwilioAccount, TwilioCountry, TwilioSnapshot
from .database import connection, transaction
from .overrides import bump_version
from .schema import (
    TWILIO_SNAPSHOT_VERSION,
    aware,
    policy_version,
    twilio_accounts,
    twilio_countries,
    twilio_numbers,
    twilio_special_prefixes,
)

INCOMING, VERIFIED = "incoming", "verified"


@dataclass
class SyncWrite:
    """What one run learnt about one family of accounts, written as one transaction.

    ``listed``: accounts Twilio's Accounts list named (identity and status only); ``synced``:
    accounts read in full; ``failed``: account SID -> why reading it failed; ``prefixes``: ISO
    code -> Twilio's high-risk special prefixes for that country, replacing the ones kept.
    """

    at: float
    listed: Sequence[TwilioAccount] = ()
    synced: Sequence[TwilioAccount] = ()
    failed: Mapping[str, str] = field(default_factory=dict)
    prefixes: Mapping[str, Sequence[str]] = field(default_factory=dict)


def _chunks(values: list[str], size: int = 500) -> Iterable[list[str]]:
    """``values`` in slices small enough for one statement's bound parameters on either database."""
    return (values[i : i + size] for i in range(0, len(values), size))


def _epoch(value: object) -> float | None:
    return aware(value).timestamp() if value is not None else None  # type: ignore[arg-type, union-attr]


class TwilioSnapshotStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def version(self) -> int:
        with connection(self.engine, "twilio snapshot version") as conn:
            value = conn.execute(select(policy_version.c.version).where(policy_version.c.id == TWILIO_SNAPSHOT_VERSION)).scalar()
        return int(value or 0)

    def load(self) -> TwilioSnapshot:
        with connection(self.engine, "twilio snapshot load") as conn:
            version = conn.execute(select(policy_version.c.version).where(policy_version.c.id == TWILIO_SNAPSHOT_VERSION)).scalar() or 0
            numbers: dict[tuple[str, str], set[str]] = {}
            for row in conn.execute(select(twilio_numbers)):
                numbers.setdefault((row.account_sid, row.kind), set()).add(row.number)
            countries: dict[str, list[TwilioCountry]] = {}
            for row in conn.execute(select(twilio_countries).order_by(twilio_countries.c.account_sid, twilio_countries.c.iso_code)):
                countries.setdefault(row.account_sid, []).append(
                    TwilioCountry(
                        row.iso_code,
                        tuple(c for c in row.country_codes.split(",") if c),
                        bool(row.low_risk_numbers_enabled),
                        bool(row.high_risk_special_numbers_enabled),
                        bool(row.high_risk_tollfraud_numbers_enabled),
                    )
                )
            accounts = {
                row.account_sid: TwilioAccount(
                    sid=row.account_sid,
                    owner_account_sid=row.owner_account_sid,
                    friendly_name=row.friendly_name,
                    status=row.status,
                    synced_at=_epoch(row.synced_at),
                    attempted_at=_epoch(row.attempted_at),
                    last_error=row.last_error,
                    inherits_permissions=bool(row.inherits_permissions),
                    incoming_numbers=frozenset(numbers.get((row.account_sid, INCOMING), ())),
                    verified_caller_ids=frozenset(numbers.get((row.account_sid, VERIFIED), ())),
                    countries=None if row.inherits_permissions else tuple(countries.get(row.account_sid, ())),
                )
                for row in conn.execute(select(twilio_accounts))
            }
            prefixes = {row.prefix: row.iso_code for row in conn.execute(select(twilio_special_prefixes))}
        return TwilioSnapshot(int(version), accounts, prefixes)

    def write(self, result: SyncWrite) -> None:
        with transaction(self.engine, "twilio snapshot write") as conn:
            for account in result.listed:
                self._upsert(
                    conn,
                    account.sid,
                    owner_account_sid=account.owner_account_sid,
                    friendly_name=account.friendly_name,
                    status=account.status,
                )
            for account in result.synced:
                self._upsert(
                    conn, account.sid, owner_account_sid=account.owner_account_sid, friendly_name=account.friendly_name,
                    status=account.status, inherits_permissions=account.inherits_permissions, synced_at=utc_datetime(result.at),
                    attempted_at=utc_datetime(result.at), last_error=None,
                )
                self._replace_numbers(conn, account.sid, INCOMING, account.incoming_numbers)
                self._replace_numbers(conn, account.sid, VERIFIED, account.verified_caller_ids)
                conn.execute(delete(twilio_countries).where(twilio_countries.c.account_sid == account.sid))
                if account.countries:
                    conn.execute(
                        insert(twilio_countries),
                        [
                            {
                                "account_sid": account.sid,
                                "iso_code": c.iso_code,
                                "country_codes": ",".join(c.country_codes),
                                "low_risk_numbers_enabled": c.low_risk_numbers_enabled,
                                "high_risk_special_numbers_enabled": c.high_risk_special_numbers_enabled,
                                "high_risk_tollfraud_numbers_enabled": c.high_risk_tollfraud_numbers_enabled,
                            }
                            for c in account.countries
                        ],
                    )
            for sid, error in result.failed.items():
                self._upsert(conn, sid, attempted_at=utc_datetime(result.at), last_error=error)
            for iso_code, prefixes in result.prefixes.items():
                conn.execute(delete(twilio_special_prefixes).where(twilio_special_prefixes.c.iso_code == iso_code))
                unique = list(dict.fromkeys(prefixes))
                for chunk in _chunks(unique):  # a prefix listed under two countries is kept once, under the last
                    conn.execute(delete(twilio_special_prefixes).where(twilio_special_prefixes.c.prefix.in_(chunk)))
                if unique:
                    conn.execute(insert(twilio_special_prefixes), [{"prefix": p, "iso_code": iso_code} for p in unique])
            bump_version(self.engine, conn, TWILIO_SNAPSHOT_VERSION)

    def _upsert(self, conn: Connection, sid: str, **values: object) -> None:
        exists = conn.execute(select(twilio_accounts.c.account_sid).where(twilio_accounts.c.account_sid == sid)).first()
        if exists is not None:
            conn.execute(update(twilio_accounts).where(twilio_accounts.c.account_sid == sid).values(**values))
        else:
            conn.execute(insert(twilio_accounts).values(account_sid=sid, **{"inherits_permissions": False, **values}))

    def _replace_numbers(self, conn: Connection, sid: str, kind: str, numbers: Iterable[str]) -> None:
        """Make the stored numbers of ``kind`` equal ``numbers``, touching only the rows that changed."""
        where = (twilio_numbers.c.account_sid == sid, twilio_numbers.c.kind == kind)
        kept = set(conn.execute(select(twilio_numbers.c.number).where(*where)).scalars())
        wanted = set(numbers)
        gone, new = kept - wanted, wanted - kept
        for chunk in _chunks(sorted(gone)):
            conn.execute(delete(twilio_numbers).where(*where, twilio_numbers.c.number.in_(chunk)))
        if new:
            conn.execute(insert(twilio_numbers), [{"account_sid": sid, "number": n, "kind": kind} for n in sorted(new)])
