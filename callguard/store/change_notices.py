"""Change notices between workers and hosts: what a notice says, and who publishes one.

A store publishes a notice once a change has committed; every worker subscribes and acts at
once: a runtime policy change makes it re-read the overrides, an opt-out or consent change makes
it forget what it remembers about that number. A notice is a hint, never the data: the database
stays the source of truth, and the policy refresher's poll of the overrides version (every
``CALLGUARD_REFRESH_INTERVAL``) picks up whatever a worker missed while Redis was unreachable.
Notices travel over Redis pub/sub (``CALLGUARD_REDIS_URL``; :mod:`.change_notices_redis`, imported
only then), on the channel ``<CALLGUARD_REDIS_PREFIX>changes``: the same Redis and prefix as the counters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

OVERRIDES, OPTOUT, CONSENT = "overrides", "optout", "consent"


@dataclass(frozen=True)
class ChangeNotice:
    kind: str  # OVERRIDES, OPTOUT or CONSENT
    number: str | None = None  # None with OPTOUT/CONSENT: many numbers changed (an import)
    family: str | None = None

    def encode(self) -> str:
        return json.dumps({"kind": self.kind, "number": self.number, "family": self.family})

    @classmethod
    def decode(cls, raw: bytes | str) -> ChangeNotice | None:
        try:
            fields = json.loads(raw)
            notice = cls(str(fields["kind"]), fields.get("number"), fields.get("family"))
        except (ValueError, KeyError, TypeError):
            return None
        return notice if notice.kind in (OVERRIDES, OPTOUT, CONSENT) else None


class ChangePublisher(Protocol):
    def publish(self, notice: ChangeNotice) -> None:
        """Tell every worker; never raises (the poll is the fallback)."""
        ...


def channel(prefix: str) -> str:
    """The pub/sub channel of the notices of deployments sharing ``prefix``."""
    return f"{prefix}changes"
