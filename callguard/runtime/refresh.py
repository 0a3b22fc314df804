"""Keep a worker's Guard in step with runtime changes, the policy file and the Twilio snapshot.

:meth:`PolicyRefresher.refresh_now` looks at the version of the runtime overrides in the
database, the version of the Twilio snapshot the sync stores there, and the policy file's
modification time; the runtime runs it on a background worker every ``CALLGUARD_REFRESH_INTERVAL``
seconds (0.5 by default, so a change reaches every worker and host within a second). When any
moved it rebuilds the policy (file + overrides + Twilio's picture) and swaps it into the Guard;
decisions in flight keep the snapshot they started with. A change notice through
Redis (:mod:`callguard.store.change_notices`) makes the worker call
:meth:`PolicyRefresher.refresh_now` at once; the poll stays, for changes whose notice was lost
(and for Twilio syncs, which publish none). A database that cannot be read, or a policy file
that no longer validates, leaves the last good policy in force and is logged and reported by
/healthz. With a ``stale_limit``, the last good policy is used for at most that long after the
database last answered; then the Guard decides by the fail mode until the database answers
again.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from ..engine import Guard
from ..errors import CallguardError
from ..loggers import get_logger
from ..policy.loader import load_policy
from ..policy.model import Policy
from ..policy.overrides import NO_OVERRIDES, Overrides, apply_overrides
from ..policy.twilio_apply import apply_twilio
from ..policy.twilio_snapshot import EMPTY_SNAPSHOT, TwilioSnapshot
from ..store.overrides import OverrideStore
from ..store.twilio_snapshots import TwilioSnapshotStore
from .settings import TWILIO_MAX_STALENESS

log = get_logger("callguard.policy")


@dataclass
class RefreshStatus:
    overrides_version: int
    policy_file_mtime: float | None
    last_refresh_ok_at: float | None
    last_error: str | None
    fresh_until: float | None = None  # by the guard's clock; None: no staleness limit


class PolicyRefresher:
    def __init__(
        self,
        guard: Guard,
        policy_path: str,
        store: OverrideStore,
        *,
        twilio: TwilioSnapshotStore | None = None,
        twilio_max_staleness: float = TWILIO_MAX_STALENESS,
        stale_limit: float | None = None,
    ) -> None:
        self.guard = guard
        self.policy_path = policy_path
        self.store = store
        self.twilio = twilio
        self.twilio_max_staleness = twilio_max_staleness
        self.stale_limit = stale_limit
        self._fresh_until: float | None = None
        self._base: Policy = guard.policy
        self._overrides: Overrides = NO_OVERRIDES
        self._twilio: TwilioSnapshot = EMPTY_SNAPSHOT
        self._mtime = self._file_mtime()
        self._last_ok: float | None = None
        self._last_error: str | None = None
        self._lock = threading.Lock()

    def _file_mtime(self) -> float | None:
        try:
            return os.stat(self.policy_path).st_mtime
        except OSError:
            return None

    def refresh_now(self) -> bool:
        """Pick up changes now; True if the policy was replaced. Never raises."""
        with self._lock:
            changed = False
            twilio = self._twilio
            mtime = self._file_mtime()
            if mtime is not None and mtime != self._mtime:
                try:
                    self._base = load_policy(self.policy_path)
                    changed = True
                    log.info("policy file %s reloaded", self.policy_path)
                except CallguardError as exc:
                    self._last_error = f"policy file: {exc}"
                    log.error("policy file changed but does not validate; keeping the last good policy: %s", exc)
                self._mtime = mtime
            read_at = self.guard.clock()  # before the read: the data is as fresh as its start
            try:
                version = self.store.version()
                if version != self._overrides.version:
                    self._overrides = self.store.load()
                    changed = True
                if self.twilio is not None and self.twilio.version() != twilio.version:
                    twilio = self.twilio.load()
                    changed = True
                self._last_ok = time.time()
                if self.stale_limit is not None:
                    self._fresh_until = read_at + self.stale_limit
                    self.guard.keep_policy_until(self._fresh_until)
                if not changed and self._last_error and self._last_error.startswith("database"):
                    self._last_error = None
            except CallguardError as exc:
                self._last_error = f"database: {exc}"
                log.warning("runtime policy changes could not be read; keeping the last ones: %s", exc)
            if changed:
                policy = apply_overrides(self._base, self._overrides)
                self.guard.replace_policy(apply_twilio(policy, twilio, max_staleness=self.twilio_max_staleness))
            self._twilio = twilio  # published once decisions use it, so /healthz never runs ahead of them
            return changed

    @property
    def base_policy(self) -> Policy:
        """The policy file as last loaded, without runtime changes."""
        return self._base

    @property
    def twilio_snapshot(self) -> TwilioSnapshot:
        """Twilio's picture as last loaded from the database (what decisions use)."""
        return self._twilio

    def status(self) -> RefreshStatus:
        return RefreshStatus(self._overrides.version, self._mtime, self._last_ok, self._last_error, self._fresh_until)

    def after_fork(self) -> None:
        """In a forked child: the parent's refreshing thread may have held the lock at the fork."""
        self._lock = threading.Lock()
