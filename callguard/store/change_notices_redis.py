"""Change notices over Redis pub/sub: the publisher every store uses, the listener every worker runs.

Imported only when ``CALLGUARD_REDIS_URL`` is set (it needs the ``redis`` extra); what a notice
says is :mod:`.change_notices`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import redis
from redis.exceptions import RedisError

from .change_notices import ChangeNotice, channel

log = logging.getLogger("callguard.store")


class RedisChangePublisher:
    def __init__(self, url: str, *, prefix: str, timeout: float = 0.2) -> None:
        self.channel = channel(prefix)
        self.client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)

    def publish(self, notice: ChangeNotice) -> None:
        try:
            self.client.publish(self.channel, notice.encode())
        except RedisError as exc:
            log.warning("change notice %s not published (workers pick the change up by polling): %s", notice.kind, exc)

    def close(self) -> None:
        self.client.close()


class ChangeListener:
    """A background thread subscribed to the change channel, calling ``on_notice`` for each notice.

    It subscribes before the constructor returns (when Redis answers), so a worker is listening
    once it reports ready. After Redis was unreachable it calls ``on_missed`` on resubscribing:
    notices sent meanwhile are lost, so what they would have triggered must be done anyway.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str,
        on_notice: Callable[[ChangeNotice], None],
        on_missed: Callable[[], None],
        retry_interval: float = 1.0,
    ) -> None:
        self.channel = channel(prefix)
        # No read timeout of its own: the listener waits in get_message; health checks (a PING
        # when idle) find a connection that died without closing.
        self.client = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=5.0, health_check_interval=10)
        self.on_notice = on_notice
        self.on_missed = on_missed
        self.retry_interval = retry_interval
        self.connected = False
        self._missed = False  # Redis was unreachable since the last subscription
        self._confirmed = False  # the current subscription has been confirmed once
        self._pubsub: Any = None
        self._handled = 0
        self._handled_changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._subscribe()
        os.register_at_fork(after_in_child=self._after_fork)

    def _subscribe(self) -> None:
        try:
            pubsub = self.client.pubsub()
            pubsub.subscribe(self.channel)
        except RedisError as exc:
            self._lost(exc)
            return
        self._pubsub, self._confirmed = pubsub, False

    def _lost(self, exc: Exception) -> None:
        if not self._missed:
            log.warning("change notices: Redis unreachable (%s); runtime changes arrive by polling until it is back", exc)
        self._missed = True
        self.connected = False
        if self._pubsub is not None:
            try:
                self._pubsub.close()
            except RedisError:
                pass
            self._pubsub = None

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="callguard-notices", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._pubsub is None:
                self._subscribe()
                if self._pubsub is None:
                    self._stop.wait(self.retry_interval)
                    continue
            try:
                message = self._pubsub.get_message(timeout=0.25)  # how soon stop() is noticed
            except RedisError as exc:
                self._lost(exc)
                continue
            if message is not None:
                self._handle(message)

    def _handle(self, message: dict[str, Any]) -> None:
        try:
            # A "subscribe" confirmation comes on every (re)connection, redis-py's own silent
            # reconnections included: any after the first means notices may have been lost.
            if message["type"] == "subscribe":
                self.connected = True
                missed = self._missed or self._confirmed
                self._missed, self._confirmed = False, True
                if missed:
                    log.info("change notices: subscribed again; catching up on what may have been missed")
                    self.on_missed()
            elif message["type"] == "message":
                notice = ChangeNotice.decode(message["data"])
                if notice is not None:
                    self.on_notice(notice)
                    with self._handled_changed:
                        self._handled += 1
                        self._handled_changed.notify_all()
        except Exception:  # a failing handler must not end the listener
            log.exception("change notice handler failed")

    @property
    def handled(self) -> int:
        """How many notices this listener has acted on."""
        return self._handled

    def wait_handled(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` notices have been acted on; False if ``timeout`` passed first."""
        with self._handled_changed:
            return self._handled_changed.wait_for(lambda: self._handled >= count, timeout)

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        if self._pubsub is not None:
            try:
                self._pubsub.close()
            except RedisError:
                pass
        self.client.close()

    def _after_fork(self) -> None:
        # The parent's subscription connection must not be shared (gunicorn --preload).
        self._pubsub = None
        self._missed = True
        if self._thread is not None and not self._stop.is_set():
            self._thread = None
            self.start()
