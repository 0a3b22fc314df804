"""Runtime suspensions and prefix blocks, their change log, and the version workers poll.

Every change runs in one transaction that writes the change, bumps
``callguard_policy_version`` and appends to ``callguard_changes`` (who, when, before, after).
A worker's :class:`~callguard.runtime.refresh.PolicyRefresher` reads the version and, when it
moved, the full :class:`~callguard.policy.overrides.Overrides`: at once when a change notice
arrives through Redis, else at its next poll.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from ..clock import utc_datetime
from ..policy.model import BlockedPrefix, Permission
from ..policy.overrides import AccountOverride, Overrides
from .change_notices import OVERRIDES, ChangeNotice, ChangePublisher
from .changes import Change, list_changes, record_change
from .database import connection, insert_ignoring_duplicates, transaction
from .schema import account_states, aware, permission_overrides, policy_version, runtime_blocks

PERMISSION_FIELDS = ("low_risk", "high_risk_special", "high_risk_tollfraud", "direct_request")


@dataclass(frozen=True)
class RuntimeBlock:
    id: int
    prefix: str
    account_sid: str | None
    reason: str
    expires_at: float | None
    created_at: float
    created_by: str


def bump_version(engine: Engine, conn: Connection, row: int) -> None:
    """Add one to row ``row`` of ``callguard_policy_version`` (creating it at 1), in ``conn``'s transaction."""
    where = policy_version.c.id == row
    if not conn.execute(update(policy_version).where(where).values(version=policy_version.c.version + 1)).rowcount:
        conn.execute(insert_ignoring_duplicates(engine, policy_version).values(id=row, version=0))
        conn.execute(update(policy_version).where(where).values(version=policy_version.c.version + 1))


class OverrideStore:
    def __init__(self, engine: Engine, *, publisher: ChangePublisher | None = None) -> None:
        self.engine = engine
        self.publisher = publisher

    @contextmanager
    def _change(self, operation: str) -> Iterator[Connection]:
        """A transaction that bumps the version; once it commits, every worker is told."""
        with transaction(self.engine, operation) as conn:
            yield conn
            self._bump(conn)
        self._notify()

    def _notify(self) -> None:
        if self.publisher is not None:
            self.publisher.publish(ChangeNotice(OVERRIDES))

    # -- reading -----------------------------------------------------------------------------

    def version(self) -> int:
        with connection(self.engine, "policy version") as conn:
            value = conn.execute(select(policy_version.c.version).where(policy_version.c.id == 1)).scalar()
        return int(value or 0)

    def load(self) -> Overrides:
        """Every runtime change in force (blocks not lifted; expired ones are kept, the check ignores them)."""
        with connection(self.engine, "overrides load") as conn:
            version = conn.execute(select(policy_version.c.version).where(policy_version.c.id == 1)).scalar() or 0
            accounts = {
                row.account_sid: AccountOverride(bool(row.suspended), row.reason)
                for row in conn.execute(select(account_states))
            }
            blocks = tuple(
                BlockedPrefix(
                    prefix=row.prefix,
                    reason=row.reason,
                    expires=aware(row.expires_at).timestamp() if row.expires_at else None,  # type: ignore[union-attr]
                    account=row.account_sid,
                )
                for row in conn.execute(select(runtime_blocks).where(runtime_blocks.c.lifted_at.is_(None)).order_by(runtime_blocks.c.id))
            )
            permissions = {
                (row.account_sid, row.geo_key): Permission(**{f: bool(getattr(row, f)) for f in PERMISSION_FIELDS})
                for row in conn.execute(select(permission_overrides))
            }
        return Overrides(int(version), accounts, blocks, permissions)

    def blocks(self, *, include_lifted: bool = False) -> list[RuntimeBlock]:
        query = select(runtime_blocks).order_by(runtime_blocks.c.id)
        if not include_lifted:
            query = query.where(runtime_blocks.c.lifted_at.is_(None))
        with connection(self.engine, "blocks list") as conn:
            return [
                RuntimeBlock(
                    row.id,
                    row.prefix,
                    row.account_sid,
                    row.reason,
                    aware(row.expires_at).timestamp() if row.expires_at else None,  # type: ignore[union-attr]
                    aware(row.created_at).timestamp(),  # type: ignore[union-attr]
                    row.created_by,
                )
                for row in conn.execute(query)
            ]

    def changes(self, *, limit: int = 100, entity: str | None = None) -> list[Change]:
        """The change log (every store's changes), newest first."""
        return list_changes(self.engine, limit=limit, entity=entity)

    # -- changing ----------------------------------------------------------------------------

    def _bump(self, conn: Connection) -> None:
        bump_version(self.engine, conn, 1)

    def set_permission(self, account_sid: str, geo_key: str, permission: Permission | None, *, actor: str, now: float) -> None:
        """Set (or, with None, remove) a runtime permission entry replacing the file's for that country."""
        with self._change("permission override") as conn:
            where = (permission_overrides.c.account_sid == account_sid, permission_overrides.c.geo_key == geo_key)
            row = conn.execute(select(permission_overrides).where(*where)).first()
            before = {f: bool(getattr(row, f)) for f in PERMISSION_FIELDS} if row is not None else None
            conn.execute(permission_overrides.delete().where(*where))
            after = None
            if permission is not None:
                after = {f: getattr(permission, f) for f in PERMISSION_FIELDS}
                conn.execute(
                    insert(permission_overrides).values(
                        account_sid=account_sid, geo_key=geo_key, changed_at=utc_datetime(now), changed_by=actor, **after
                    )
                )
            record_change(
                conn, now=now, actor=actor, entity="permission", entity_id=f"{account_sid}/{geo_key}",
                action="set" if permission is not None else "clear", before=before, after=after,
            )

    def set_suspended(self, account_sid: str, suspended: bool, *, reason: str | None, actor: str, now: float) -> None:
        """Suspend or resume an account at runtime (the file's setting is overridden either way)."""
        with self._change("account state") as conn:
            row = conn.execute(select(account_states).where(account_states.c.account_sid == account_sid)).first()
            before = {"suspended": bool(row.suspended), "reason": row.reason} if row is not None else None
            values = {"suspended": suspended, "reason": reason, "changed_at": utc_datetime(now), "changed_by": actor}
            if row is None:
                conn.execute(insert(account_states).values(account_sid=account_sid, **values))
            else:
                conn.execute(update(account_states).where(account_states.c.account_sid == account_sid).values(**values))
            record_change(
                conn, now=now, actor=actor, entity="account", entity_id=account_sid,
                action="suspend" if suspended else "resume", before=before, after={"suspended": suspended, "reason": reason},
            )

    def add_block(
        self, prefix: str, *, account_sid: str | None, reason: str, expires_at: float | None, actor: str, now: float
    ) -> int:
        with self._change("block insert") as conn:
            block_id = conn.execute(
                insert(runtime_blocks)
                .values(
                    prefix=prefix,
                    account_sid=account_sid,
                    reason=reason,
                    expires_at=utc_datetime(expires_at) if expires_at is not None else None,
                    created_at=utc_datetime(now),
                    created_by=actor,
                )
                .returning(runtime_blocks.c.id)
            ).scalar_one()
            record_change(
                conn, now=now, actor=actor, entity="prefix_block", entity_id=str(block_id), action="create", before=None,
                after={"prefix": prefix, "account_sid": account_sid, "reason": reason, "expires_at": expires_at},
            )
        return int(block_id)

    def lift_block(self, block_id: int, *, actor: str, now: float) -> bool:
        with transaction(self.engine, "block lift") as conn:
            row = conn.execute(select(runtime_blocks).where(runtime_blocks.c.id == block_id, runtime_blocks.c.lifted_at.is_(None))).first()
            if row is None:
                return False
            conn.execute(update(runtime_blocks).where(runtime_blocks.c.id == block_id).values(lifted_at=utc_datetime(now), lifted_by=actor))
            record_change(
                conn, now=now, actor=actor, entity="prefix_block", entity_id=str(block_id), action="lift",
                before={"prefix": row.prefix, "account_sid": row.account_sid, "reason": row.reason}, after=None,
            )
            self._bump(conn)
        self._notify()
        return True
