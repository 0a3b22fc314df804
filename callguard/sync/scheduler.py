"""Run the Twilio sync in the background, every ``CALLGUARD_TWILIO_SYNC_INTERVAL`` seconds.

Every worker of every host runs one of these; each wakes every ``poll`` seconds and asks the
``twilio-sync`` lease whether a run is due, so exactly one process runs each scheduled sync and
the others only read the result (through the policy refresher). A run that fails is retried
after a minute (or the interval, if shorter).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Callable

from ..errors import CallguardError
from ..policy.model import Policy
from .runner import SyncReport, TwilioSync

log = logging.getLogger("callguard.sync")


class SyncScheduler:
    def __init__(self, sync: TwilioSync, policy: Callable[[], Policy], *, poll: float = 15.0) -> None:
        self.sync = sync
        self.policy = policy
        self.poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        os.register_at_fork(after_in_child=self._after_fork)

    def tick(self) -> SyncReport | None:
        """Run the sync if it is due. Never raises (a database error is logged; the next tick retries)."""
        try:
            return self.sync.run(self.policy())
        except CallguardError as exc:
            log.error("twilio sync could not run: %s", exc)
        except Exception:  # a bug must not end the schedule
            log.exception("twilio sync failed")
        return None

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="callguard-twilio-sync", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.poll)

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _after_fork(self) -> None:
        # Threads do not survive fork (gunicorn --preload): start a fresh one in the child.
        if self._thread is not None and not self._stop.is_set():
            self._thread = None
            self.start()
