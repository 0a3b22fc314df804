"""What the callguard extension keeps in ``app.extensions["callguard"]``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy.engine import Engine

from ..config import Settings
from ..engine import Guard
from ..lookups import RegistryLookup
from ..policy_refresh import PolicyRefresher
from ..store.overrides import OverrideStore
from ..store.audit import BatchingAuditLog, SqlAuditLog
from ..store.consents import ConsentStore
from ..store.optouts import OptOutStore
from .admin.tokens import ApiToken
from .signature import SignatureValidator


@dataclass
class CallguardState:
    settings: Settings
    guard: Guard
    validator: SignatureValidator
    engine: Engine
    audit_sql: SqlAuditLog
    audit: BatchingAuditLog | SqlAuditLog
    optouts: OptOutStore
    consents: ConsentStore
    overrides: OverrideStore
    refresher: PolicyRefresher
    registries: RegistryLookup | None = None
    api_tokens: tuple[ApiToken, ...] = ()

    def close(self) -> None:
        """Stop background work, write the audit backlog and release database connections."""
        self.refresher.stop()
        if isinstance(self.audit, BatchingAuditLog):
            self.audit.close()
        self.engine.dispose()


def current_state() -> CallguardState:
    return current_app.extensions["callguard"]  # type: ignore[no-any-return]
