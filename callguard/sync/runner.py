"""One Twilio sync run: read every synced account family from Twilio and store what was read.

A *family* is a synced account whose parent is not synced (usually a main account), with every
synced account below it in the policy. The family's root credentials read the Accounts list
(the root and its subaccounts, with their status) and every member's numbers and verified
caller IDs; each member's dialing permissions are read with credentials that reach
``voice.twilio.com`` for it (see :mod:`callguard.sync.credentials`); then Twilio's high-risk
special prefixes of every country a member may call. Each family is written in one
transaction. A member that cannot be read keeps its last good data and gets its error
recorded; once Twilio proves unreachable, rate-limiting or failing (after the transport's
retries), the rest of the family is not tried in that run, so an outage costs one request's
retries rather than one per account.

Runs take the ``twilio-sync`` lease (:mod:`callguard.store.leases`): a scheduled run only when
due, ``callguard sync`` whenever no other run is in progress. Each finished run is told to
``on_run`` (its outcome) and each account it could not read to ``on_account_error`` (the error's
kind): the runtime counts them in its metrics (:mod:`callguard.runtime.twilio_sync`).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from twilio.rest import Client

from ..clock import Clock
from ..errors import TwilioSyncError
from ..loggers import get_logger
from ..policy.model import Account, Policy, TwilioMode
from ..policy.twilio_snapshot import TwilioAccount, TwilioCountry
from ..store.leases import LeaseStore
from ..store.twilio_snapshots import SyncWrite, TwilioSnapshotStore
from .credentials import own_credentials, subaccount_voice_credentials
from .reader import ListedAccount, TwilioReader

log = get_logger("callguard.sync")

LEASE = "twilio-sync"
OUTAGE_KINDS = frozenset({"unreachable", "rate_limited", "server_error"})


@dataclass(frozen=True)
class AccountOutcome:
    sid: str
    label: str
    error: TwilioSyncError | None = None
    summary: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class SyncReport:
    started_at: float
    finished_at: float | None = None
    outcomes: list[AccountOutcome] = field(default_factory=list)
    not_run: str | None = None  # why the run did not happen (the lease is held, nothing to sync)

    @property
    def ok(self) -> bool:
        return self.not_run is None and all(o.ok for o in self.outcomes)

    @property
    def outcome(self) -> str:
        if self.not_run is not None:
            return "not_run"
        failed = sum(not o.ok for o in self.outcomes)
        return "ok" if not failed else "failed" if failed == len(self.outcomes) else "partial"


def synced_families(policy: Policy) -> list[tuple[Account, list[Account]]]:
    """(root, members with the root first) for every family of synced accounts in ``policy``."""
    families: dict[str, list[Account]] = {}
    for account in sorted(policy.accounts.values(), key=lambda a: (len(a.lineage), a.sid)):  # roots first
        if account.twilio_mode is TwilioMode.OFF:
            continue
        root = account.sid
        for ancestor in account.lineage[1:]:  # up to the first ancestor that is not synced
            if policy.accounts[ancestor].twilio_mode is TwilioMode.OFF:
                break
            root = ancestor
        families.setdefault(root, []).append(account)
    return [(policy.accounts[root], members) for root, members in families.items()]


def _summary(account: TwilioAccount, countries: tuple[TwilioCountry, ...]) -> str:
    open_countries = sum(c.low_risk_numbers_enabled for c in countries)
    inherited = f" (inherited from {account.owner_account_sid})" if account.inherits_permissions else ""
    return (
        f"owned numbers: {len(account.incoming_numbers)}, verified caller IDs: {len(account.verified_caller_ids)}, "
        f"countries open: {open_countries} of {len(countries)}{inherited}, status {account.status or 'unknown'}"
    )


class TwilioSync:
    def __init__(
        self,
        store: TwilioSnapshotStore,
        leases: LeaseStore,
        reader: TwilioReader,
        *,
        config: Mapping[str, Any],
        clock: Clock,
        interval: float,
        retry_after_failure: float = 60.0,
        hold_for: float = 900.0,
        holder: str | None = None,
        on_run: Callable[[str], None] = lambda outcome: None,
        on_account_error: Callable[[str], None] = lambda kind: None,
    ) -> None:
        self.store = store
        self.leases = leases
        self.reader = reader
        self.config = config
        self.clock = clock
        self.interval = interval
        self.retry_after_failure = retry_after_failure
        self.hold_for = hold_for
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self.on_run = on_run
        self.on_account_error = on_account_error

    def run(self, policy: Policy, *, force: bool = False, only: Iterable[str] = ()) -> SyncReport:
        """Sync now if the lease allows (scheduled runs: only when due; ``force``: unless another run is in progress)."""
        report = SyncReport(started_at=self.clock())
        wanted = set(only)
        families = [(root, members) for root, members in synced_families(policy) if not wanted or wanted & {m.sid for m in members}]
        if not families:
            report.not_run = 'no account has twilio = "mirror" or "stricter"' + (f" among {', '.join(sorted(wanted))}" if wanted else "")
            return report
        if not self.leases.acquire(LEASE, self.holder, now=report.started_at, hold_for=self.hold_for, force=force):
            lease = self.leases.get(LEASE)
            report.not_run = (
                "not due" if lease is None or lease.held_until <= report.started_at else f"a sync is in progress in {lease.holder}"
            )
            return report
        try:
            for root, members in families:
                report.outcomes.extend(self._sync_family(root, members))
        finally:
            report.finished_at = self.clock()
            due = report.started_at + self.interval if report.ok else report.finished_at + min(self.retry_after_failure, self.interval)
            self.leases.release(LEASE, self.holder, now=report.finished_at, next_run_at=due)
        self.on_run(report.outcome)
        for outcome in report.outcomes:
            if outcome.error is not None:
                self.on_account_error(outcome.error.kind)
                log.warning("twilio sync: %s", outcome.error)
        log.info("twilio sync finished: %s (%d accounts)", report.outcome, len(report.outcomes))
        return report

    def _sync_family(self, root: Account, members: list[Account]) -> list[AccountOutcome]:
        write = SyncWrite(at=self.clock())
        errors: dict[str, TwilioSyncError] = {}
        summaries: dict[str, str] = {}
        try:
            client = self.reader.client(own_credentials(root, self.config))
            listed = self.reader.accounts(client)
        except TwilioSyncError as exc:
            errors = {m.sid: exc if m is root else self._not_tried(m, exc) for m in members}
        else:
            write.listed = [TwilioAccount(a.sid, a.owner_account_sid, a.friendly_name, a.status) for a in listed.values()]
            synced: list[TwilioAccount] = []
            root_countries: tuple[TwilioCountry, ...] = ()
            outage: TwilioSyncError | None = None
            for member in members:
                if outage is not None:
                    errors[member.sid] = self._not_tried(member, outage)
                    continue
                try:
                    account = self._read(member, root, client, listed)
                except TwilioSyncError as exc:
                    errors[member.sid] = exc
                    outage = exc if exc.kind in OUTAGE_KINDS else None
                    continue
                if member is root:
                    root_countries = account.countries or ()
                synced.append(account)
                summaries[member.sid] = _summary(account, root_countries if account.inherits_permissions else account.countries or ())
            write.synced = synced
            if outage is None:
                try:
                    write.prefixes = self._special_prefixes(client, synced, root_countries)
                except TwilioSyncError as exc:
                    errors.setdefault(root.sid, exc)  # the data read stays; the error is recorded
        write.failed = {sid: str(exc) for sid, exc in errors.items()}
        self.store.write(write)
        return [AccountOutcome(m.sid, m.label, errors.get(m.sid), summaries.get(m.sid, "")) for m in members]

    @staticmethod
    def _not_tried(member: Account, cause: TwilioSyncError) -> TwilioSyncError:
        return TwilioSyncError(f"not tried after {cause}", kind=cause.kind, account_sid=member.sid)

    def _read(self, member: Account, root: Account, client: Client, listed: Mapping[str, ListedAccount]) -> TwilioAccount:
        entry = listed.get(member.sid)
        if member is not root and entry is None:
            raise TwilioSyncError(f"Twilio does not list it among the subaccounts of {root.sid}", kind="not_found", account_sid=member.sid)
        incoming = self.reader.incoming_numbers(client, member.sid)
        verified = self.reader.verified_caller_ids(client, member.sid)
        if member is root:
            inherits, voice = False, client
        else:
            assert entry is not None
            voice = self.reader.client(subaccount_voice_credentials(member, entry.auth_token, self.config))
            inherits = self.reader.inherits_permissions(voice)
        return TwilioAccount(
            sid=member.sid,
            owner_account_sid=entry.owner_account_sid if entry is not None else None,
            friendly_name=entry.friendly_name if entry is not None else None,
            status=entry.status if entry is not None else None,
            inherits_permissions=inherits,
            incoming_numbers=incoming,
            verified_caller_ids=verified,
            countries=None if inherits else self.reader.countries(voice),
        )

    def _special_prefixes(
        self, client: Client, synced: Iterable[TwilioAccount], root_countries: tuple[TwilioCountry, ...]
    ) -> dict[str, list[str]]:
        """Twilio's high-risk special prefixes of every country some member may call (classification elsewhere does not matter)."""
        isos = sorted(
            {
                c.iso_code
                for a in synced
                for c in (root_countries if a.inherits_permissions else a.countries or ())
                if c.low_risk_numbers_enabled
            }
        )
        return {iso: self.reader.special_prefixes(client, iso) for iso in isos}
