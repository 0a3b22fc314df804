"""The Twilio sync on a schedule, every ``CALLGUARD_TWILIO_SYNC_INTERVAL`` seconds.

Every worker of every host runs :meth:`SyncScheduler.tick` every ``poll`` seconds (on a
background worker of the runtime); each tick asks the ``twilio-sync`` lease whether a run is due,
so exactly one process runs each scheduled sync and the others only read the result (through
the policy refresher). A run that fails is retried after a minute (or the interval, if shorter).
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import CallguardError
from ..loggers import get_logger
from ..policy.model import Policy
from .runner import SyncReport, TwilioSync

log = get_logger("callguard.sync")


class SyncScheduler:
    def __init__(self, sync: TwilioSync, policy: Callable[[], Policy], *, poll: float = 15.0) -> None:
        self.sync = sync
        self.policy = policy
        self.poll = poll  # seconds between ticks

    def tick(self) -> SyncReport | None:
        """Run the sync if it is due. Never raises (a database error is logged; the next tick retries)."""
        try:
            return self.sync.run(self.policy())
        except CallguardError as exc:
            log.error("twilio sync could not run: %s", exc)
        except Exception:  # a bug must not end the schedule
            log.exception("twilio sync failed")
        return None
