"""The records the telemarketing checks read: opt-outs and consent; and complaints, which
record an opt-out and count towards the ``[traffic.complaints]`` thresholds.

They are kept durably by :mod:`callguard.store` (``OptOutStore``, ``ConsentStore``,
``ComplaintStore``) and read by the checks through the interfaces of :mod:`callguard.lookups`
(complaints: :mod:`callguard.traffic.complaints`); here is only what a record says and which of
a number's records applies to a call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .clock import utc_datetime

# The campaign of an opt-out or consent that covers every campaign of the account family.
EVERY_CAMPAIGN = "*"

OPTOUT_SOURCES = ("prompt", "import", "admin", "api", "complaint")


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

    def as_record(self) -> dict[str, Any]:
        """What the change log keeps of it."""
        return {
            "number": self.number,
            "campaign": self.campaign,
            "source": self.source,
            "created_at": utc_datetime(self.created_at).isoformat(),
            "call_sid": self.call_sid,
            "note": self.note,
        }


def choose_optout(found: Sequence[OptOut], campaign: str | None) -> OptOut | None:
    """Of one number's opt-outs in one family (oldest first), the first that stops ``campaign``
    (with None: a family-wide one)."""
    scopes = (EVERY_CAMPAIGN,) if campaign is None else (EVERY_CAMPAIGN, campaign)
    return next((o for o in found if o.campaign in scopes), None)


CONSENT_KINDS = ("prior_express_written", "prior_express", "established_business_relationship", "inquiry", "other")


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

    def as_record(self) -> dict[str, Any]:
        """What the change log keeps of it."""
        return {
            "number": self.number,
            "campaign": self.campaign,
            "kind": self.kind,
            "obtained_at": _iso(self.obtained_at),
            "expires_at": _iso(self.expires_at),
            "evidence": self.evidence,
            "revoked_at": _iso(self.revoked_at),
        }


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else utc_datetime(epoch).isoformat()


def choose_consent(found: Sequence[Consent], campaign: str | None, now: float) -> Consent | None:
    """Of one number's consents in one family (oldest first), the first that lets ``campaign`` call at ``now``."""
    scopes = (EVERY_CAMPAIGN,) if campaign is None else (EVERY_CAMPAIGN, campaign)
    return next((c for c in found if c.campaign in scopes and c.valid_at(now)), None)




COMPLAINT_SOURCES = ("consumer", "carrier", "regulator", "other")


@dataclass(frozen=True)
class Complaint:
    """A complaint about a call: who complained (``number``, the callee), about which caller ID,
    account and campaign, who passed it on (``source``) and when it was received."""

    id: int
    number: str
    caller_id: str
    account_sid: str  # the account that placed the call
    family: str  # that account's root: the opt-out the complaint records binds the whole family
    campaign: str | None
    source: str  # consumer, carrier, regulator, other
    received_at: float
    created_at: float
    note: str | None = None

    def as_record(self) -> dict[str, Any]:
        """What the change log keeps of it (and what the admin API answers, less the id)."""
        return {
            "number": self.number,
            "caller_id": self.caller_id,
            "account_sid": self.account_sid,
            "campaign": self.campaign,
            "source": self.source,
            "received_at": utc_datetime(self.received_at).isoformat(),
            "note": self.note,
        }
