"""What the traffic protection reports when a trigger fires: a :class:`TrafficEvent`.

The monitor hands each event to its ``on_event`` (the runtime alerts it, records blocks in the
change log, and suspends the account when a trigger asks for it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class TrafficEvent:
    kind: str  # throttle_started, velocity_block, suspend_requested, region_share, complaints_throttle, complaints_pause
    account_sid: str
    subject: str  # the caller ID, prefix/country, or region concerned
    sentence: str
    at: float
    until: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "account_sid": self.account_sid, "subject": self.subject, "sentence": self.sentence,
            "at": self.at, "until": self.until, "details": dict(self.details),
        }


def until_text(epoch: float) -> str:
    """When a block or throttle ends, as sentences say it."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
