"""Change notices over Redis pub/sub: the publisher every store uses, the listener every worker runs.

Imported only when ``CALLGUARD_REDIS_URL`` is set (it needs the ``redis`` extra); what a notice
says is :mod:`.change_notices`. The listener is driven from outside: the runtime runs
:meth:`ChangeListener.poll` on a background worker, again at once while subscribed (the poll
waits for a message itself) and every ``retry_interval`` seconds while Redis is unreachable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import redis
from redis.exceptions import RedisError, ResponseError

from ..breaker import CircuitBreaker
from ..loggers import get_logger
from .change_notices import ChangeNotice, channel

log = get_logger("callguard.store")


class RedisChangePublisher:
    """Publishes each change; with a ``breaker`` (the counters' one), a Redis that stopped
    answering is not asked for its cool-off, and the notice is left to the workers' polling."""

    def __init__(self, url: str, *, prefix: str, timeout: float = 0.2, breaker: CircuitBreaker | None = None) -> None:
        self.channel = channel(prefix)
        self.client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self.breaker = breaker or CircuitBreaker("redis")

    def publish(self, notice: ChangeNotice) -> None:
        if not self.breaker.allow():
            log.warning("change notice %s not published: Redis is not answering (workers pick the change up by polling)", notice.kind)
            return
        try:
            self.client.publish(self.channel, notice.encode())
        except RedisError as exc:
            if not isinstance(exc, ResponseError):
                self.breaker.failed()
            log.warning("change notice %s not published (workers pick the change up by polling): %s", notice.kind, exc)
        else:
            self.breaker.succeeded()

    def close(self) -> None:
        self.client.close()


class ChangeListener:
    """A subscription to the change channel; each :meth:`poll` calls ``on_notice`` for a notice that arrived.

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
        self._subscribe()

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

    def poll(self, timeout: float = 0.25) -> None:
        """Wait up to ``timeout`` seconds for one message and act on it; subscribe first if not subscribed.

        ``timeout`` bounds how long a worker running this takes to notice it should stop."""
        if self._pubsub is None:
            self._subscribe()
            if self._pubsub is None:
                return
        try:
            message = self._pubsub.get_message(timeout=timeout)
        except RedisError as exc:
            self._lost(exc)
            self._subscribe()  # at once: a blip costs no retry interval
            return
        if message is not None:
            self._handle(message)

    def next_poll_in(self) -> float:
        """Seconds until the next :meth:`poll`: none while subscribed, ``retry_interval`` while Redis is unreachable."""
        return 0.0 if self._pubsub is not None else self.retry_interval

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

    def close(self) -> None:
        """Drop the subscription and the connection (once nothing polls any more)."""
        if self._pubsub is not None:
            try:
                self._pubsub.close()
            except RedisError:
                pass
            self._pubsub = None
        self.client.close()

    def after_fork(self) -> None:
        """In a forked child (gunicorn --preload): the parent's subscription connection must not
        be shared, and notices may be missed until the child has subscribed."""
        self._pubsub = None
        self._missed = True
        self._handled_changed = threading.Condition()
