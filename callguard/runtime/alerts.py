"""Alerts for traffic events: a structured log line always, and an optional webhook.

The webhook gets the event as JSON (POST) from the sink's background worker, so no call waits
for it, with a bounded number of retries and a bounded queue: an alert endpoint that is down
costs log lines, never calls.
"""

from __future__ import annotations

import collections
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from ..clock import Clock, system_clock
from ..loggers import get_logger
from ..traffic.events import TrafficEvent
from .worker import BackgroundWorker

log = get_logger("callguard.alerts")

IDLE_WAKE = 60.0  # seconds between looks at an empty queue; an alert wakes the sender at once


class AlertSink:
    """Called with each traffic event; :attr:`worker` posts the queued ones to the webhook."""

    def __init__(
        self,
        webhook: Callable[[], str | None],
        *,
        attempts: int = 3,
        backoff: float = 1.0,
        timeout: float = 2.0,
        max_queue: int = 1_000,
        sleep: Callable[[float], None] = time.sleep,
        clock: Clock = system_clock,
    ) -> None:
        self.webhook = webhook  # read per alert: a reloaded policy may change it
        self.attempts, self.backoff, self.timeout, self.max_queue, self.sleep = attempts, backoff, timeout, max_queue, sleep
        self.delivered = 0
        self.failed = 0
        self._queue: collections.deque[tuple[str, bytes]] = collections.deque()
        # Held while a drain delivers, so that a second drain (at shutdown, or a test's) returns
        # only once the alert the worker took is delivered, not while it is still on its way.
        self._draining = threading.Lock()
        self.worker = BackgroundWorker("alerts", self.drain, interval=IDLE_WAKE, after_fork=self._after_fork, clock=clock)

    def _after_fork(self) -> None:
        self._queue.clear()
        self._draining = threading.Lock()  # a parent's drain may have held it when the worker forked

    def __call__(self, event: TrafficEvent) -> None:
        payload = event.as_dict()
        log.warning("traffic alert %s", json.dumps(payload, sort_keys=True))
        url = self.webhook()
        if not url:
            return
        if len(self._queue) >= self.max_queue:
            self.failed += 1
            log.error("alert queue full; alert not sent to the webhook: %s", event.kind)
            return
        self._queue.append((url, json.dumps(payload).encode()))
        self.worker.wake()

    @property
    def queued(self) -> int:
        return len(self._queue)

    def deliver(self, url: str, body: bytes) -> bool:
        for attempt in range(1, self.attempts + 1):
            try:
                request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    if 200 <= response.status < 300:
                        self.delivered += 1
                        return True
            except (urllib.error.URLError, OSError, ValueError) as exc:
                log.warning("alert webhook attempt %d of %d failed: %s", attempt, self.attempts, exc)
            if attempt < self.attempts:
                self.sleep(self.backoff * 2 ** (attempt - 1))
        self.failed += 1
        log.error("alert webhook %s failed %d times; alert dropped", url, self.attempts)
        return False

    def drain(self) -> None:
        """Deliver everything queued now, on this thread (what the worker runs; shutdown, tests);
        returns once nothing is queued or being delivered by another drain."""
        with self._draining:
            while self._queue:
                url, body = self._queue.popleft()
                self.deliver(url, body)
