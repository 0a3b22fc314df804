"""The lookups some checks need beyond the policy: opt-outs, consent, national registries and
the traffic counters.

Checks stay pure functions of their context; what they look up sits behind these small
interfaces, so the engine can be tested with any implementation and the web app plugs in the
database-backed stores and the memory-mapped registry files.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from .records import Consent, OptOut
from .traffic.monitor import TrafficMonitor


class OptOutLookup(Protocol):
    def find_all(self, number: str, account_sid: str) -> tuple[OptOut, ...]:
        """Every opt-out of ``number`` in the family ``account_sid``, whatever its scope, oldest first
        (the check picks the one that stops the campaign, :func:`~callguard.records.choose_optout`)."""
        ...


class ConsentLookup(Protocol):
    def find_valid(self, number: str, account_sid: str, campaign: str | None, now: float) -> Consent | None: ...


class RegistryLookup(Protocol):
    def lookup(self, e164: str, region: str | None, names: Iterable[str] | None = None) -> str | None:
        """The name of the first registry (of ``names``, or any) covering ``region`` that lists ``e164``."""
        ...

    def names(self) -> frozenset[str]:
        """The registries that are loaded."""
        ...


@dataclass(frozen=True)
class Lookups:
    """What the telemarketing checks read. Without an opt-out list every telemarketing call is
    refused. Without registries a campaign that names the registries it requires (``registries``)
    is refused, and any other is checked against no national registry. Without a consent store
    a number on a registry is refused."""

    optouts: OptOutLookup | None = None
    consents: ConsentLookup | None = None
    registries: RegistryLookup | None = None
    traffic: TrafficMonitor | None = None  # None: no traffic limits are enforced


NO_LOOKUPS = Lookups()
