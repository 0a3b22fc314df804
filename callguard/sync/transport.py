"""The HTTP client the ``twilio`` REST client is given: bounded retries, and an optional other origin.

twilio's ``Client`` takes any ``http_client``; this one is its own ``TwilioHttpClient`` with two
additions, so paging, authentication and parsing stay twilio's:

- **Retries.** A GET answered 429 or 5xx, or that could not connect or timed out, is retried up
  to ``RetryPolicy.attempts`` times in all, waiting what ``Retry-After`` asks (capped) or an
  exponential backoff with jitter. Each page of a listing is one request, so a 429 on page 3
  retries page 3, not the listing. The sleep, clock and randomness are injectable: tests never
  sleep. After the last attempt the answer goes back to twilio, which raises its
  ``TwilioRestException``; a connection that never succeeded raises the ``requests`` error.
- **Another origin.** With ``base_url``, a request for ``https://<product>.twilio.com/<path>`` goes
  to ``<base_url>/<path>`` with ``Host: <product>.twilio.com``, the way a DNS override would
  send it: for an egress proxy, or a local server that answers Twilio's REST paths in tests.
  Absolute ``next_page_url`` links in Twilio's answers are rerouted the same way.
"""

from __future__ import annotations

import logging
import random as random_module
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

from ..clock import Clock, system_clock
from ..loggers import get_logger

log = get_logger("callguard.sync")

# twilio's client logs every request and response at INFO; under `callguard serve` (INFO) that
# would be a dozen lines per page. Its own logger, quiet unless asked for.
http_log = get_logger("callguard.sync.http")
http_log.setLevel(logging.WARNING)

Sleep = Callable[[float], None]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # in all, the first included
    base_delay: float = 0.5  # seconds before the first retry; doubled each time
    max_delay: float = 8.0  # cap on the exponential backoff
    max_retry_after: float = 30.0  # cap on what Retry-After may ask for

    def backoff(self, attempt: int, random: Callable[[], float]) -> float:
        """The wait after failed attempt number ``attempt`` (1, 2 …): exponential, capped, with jitter in [½, 1]."""
        delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return delay * (0.5 + random() / 2)


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class TwilioTransport(TwilioHttpClient):
    def __init__(
        self,
        *,
        base_url: str | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 10.0,
        sleep: Sleep = time.sleep,
        clock: Clock = system_clock,
        random: Callable[[], float] = random_module.random,
        on_retry: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(timeout=timeout, logger=http_log)
        self.base_url = base_url.rstrip("/") if base_url else None
        self.retry = retry
        self.sleep = sleep
        self.clock = clock
        self.random = random
        self.on_retry = on_retry

    def route(self, url: str, headers: dict[str, str] | None) -> tuple[str, dict[str, str]]:
        """The URL to connect to and the headers to send for a request meant for ``url``."""
        headers = dict(headers or {})
        if self.base_url is None:
            return url, headers
        parts = urlsplit(url)
        if not (parts.hostname or "").endswith(".twilio.com"):
            return url, headers
        base = urlsplit(self.base_url)
        headers["Host"] = parts.netloc
        return urlunsplit((base.scheme, base.netloc, base.path + parts.path, parts.query, "")), headers

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        target, headers = self.route(url, headers)
        attempts = self.retry.attempts if method.upper() == "GET" else 1  # only reads are safe to repeat
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                response = super().request(
                    method, target, params=params, data=data, headers=headers, auth=auth, timeout=timeout,
                    allow_redirects=allow_redirects,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if last:
                    raise
                reason, delay = "unreachable", self.retry.backoff(attempt, self.random)
                log.info(
                    "Twilio unreachable for %s %s (%s); attempt %d of %d, next in %.1fs",
                    method,
                    url,
                    type(exc).__name__,
                    attempt,
                    attempts,
                    delay,
                )
            else:
                if not (response.status_code == 429 or response.status_code >= 500) or last:
                    return response
                reason = "rate_limited" if response.status_code == 429 else "server_error"
                asked = retry_after_seconds(response.headers.get("Retry-After"), self.clock())
                delay = min(asked, self.retry.max_retry_after) if asked is not None else self.retry.backoff(attempt, self.random)
                log.info(
                    "Twilio answered %d for %s %s; attempt %d of %d, next in %.1fs",
                    response.status_code,
                    method,
                    url,
                    attempt,
                    attempts,
                    delay,
                )
            if self.on_retry is not None:
                self.on_retry(reason)
            self.sleep(delay)
        raise AssertionError("not reached: the last attempt returns or raises")  # pragma: no cover
