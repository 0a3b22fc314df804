"""HTTP requests to apps behind callguard: re-signed as Twilio would sign them, bounded in time and size.

Two things go through here: a webhook forwarded by a proxy route to the app's URL (the app's
TwiML comes back to be policed), and a status callback forwarded to the app's own
``statusCallback`` (see :mod:`.chaining`). Either way the request carries an
``X-Twilio-Signature`` computed for the app's URL with the account's own token, so the app's
signature check keeps working.

A request never takes longer than its timeouts allow: the whole exchange (connecting, the
status line and headers, the body) ends ``read_timeout`` after it started, and within what the
answer callguard is working on has left (:mod:`callguard.deadline`); connecting alone may take
``connect_timeout``. No read waits past that end, however the answer trickles in
(:mod:`.exchange`). Each upstream origin has a breaker
(:class:`~callguard.breaker.CircuitBreaker`): one that timed out or refused the connection is
not asked again until its cool-off has passed. Every failure is an
:class:`~callguard.errors.UpstreamError` whose ``reason`` says which: ``upstream.unavailable``
(no connection, or not asked while its breaker is open), ``upstream.timeout``,
``upstream.status`` (not a 2xx), ``upstream.invalid`` (too large, or a broken response).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import requests
from twilio.request_validator import RequestValidator
from urllib3.exceptions import HTTPError, ReadTimeoutError
from werkzeug.datastructures import MultiDict

from twiml.document import MAX_DOCUMENT_BYTES

from .. import deadline
from ..breaker import BreakerStatus, CircuitBreaker
from ..errors import UpstreamError
from .exchange import deadline_session, exchange_deadline

# Twilio's own User-Agent on webhooks; apps sometimes look at it.
USER_AGENT = "TwilioProxy/1.1"
_CHUNK = 16_384


@dataclass(frozen=True)
class UpstreamAnswer:
    status: int
    body: bytes
    content_type: str | None


class UpstreamClient:
    """One worker's connection pool to upstream apps (a ``requests.Session``, made on first use)."""

    def __init__(
        self, *, max_bytes: int = MAX_DOCUMENT_BYTES, clock: Callable[[], float] = time.monotonic, cool_off: float = 1.0
    ) -> None:
        self.max_bytes = max_bytes
        self.clock = clock
        self.cool_off = cool_off
        self._session: requests.Session | None = None
        self._breakers: dict[str, CircuitBreaker] = {}

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = deadline_session()
        return self._session

    def breaker(self, url: str) -> CircuitBreaker:
        """The breaker of ``url``'s origin (scheme, host and port)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        breaker = self._breakers.get(origin)
        if breaker is None:
            breaker = self._breakers.setdefault(origin, CircuitBreaker(f"upstream {origin}", cool_off=self.cool_off, clock=self.clock))
        return breaker

    def breaker_statuses(self) -> list[BreakerStatus]:
        return [breaker.status() for breaker in list(self._breakers.values())]

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def send(
        self,
        method: str,
        url: str,
        *,
        params: list[tuple[str, str]],
        signer: RequestValidator,
        algorithm: str | None = None,
        headers: Mapping[str, str] | None = None,
        connect_timeout: float,
        read_timeout: float,
    ) -> UpstreamAnswer:
        """Send Twilio's parameters to ``url`` (a form body for POST, the query string for GET),
        signed as Twilio signs them with ``signer``'s token and ``algorithm``."""
        method = method.upper()
        body: str | None = None
        if method == "GET":
            if params:
                url += ("&" if "?" in url else "?") + urlencode(params)
            signature = signer.compute_signature(url, {}, algorithm)
        else:
            body = urlencode(params)
            signature = signer.compute_signature(url, MultiDict(params), algorithm)
        request_headers = {"User-Agent": USER_AGENT, **(headers or {}), "X-Twilio-Signature": signature}
        if body is not None:
            request_headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = self.clock()
        budget = deadline.bound(read_timeout)
        if budget <= 0:
            raise UpstreamError("not asked: no time left in this answer", reason="upstream.timeout", url=url)
        breaker = self.breaker(url)
        if not breaker.allow():
            raise UpstreamError(f"not answering; asked again in {breaker.retry_in():.1f} s", reason="upstream.unavailable", url=url)
        connect = min(connect_timeout, budget)
        try:
            with exchange_deadline(started + budget, self.clock):
                answer = self._exchange(method, url, body, request_headers, connect, budget, until=started + budget)
        except UpstreamError as exc:
            if exc.reason in ("upstream.timeout", "upstream.unavailable"):
                breaker.failed()
            else:
                breaker.succeeded()  # it answered, if not usefully
            raise
        breaker.succeeded()
        return answer

    def _exchange(
        self, method: str, url: str, body: str | None, headers: dict[str, str], connect: float, budget: float, *, until: float
    ) -> UpstreamAnswer:
        try:
            response = self.session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=(connect, budget),
                allow_redirects=False,  # a redirect's TwiML would go around the checks
                stream=True,
            )
        except requests.ConnectTimeout:
            raise UpstreamError(f"no connection within {connect:g} s", reason="upstream.timeout", url=url) from None
        except requests.ReadTimeout:
            raise UpstreamError(f"answer not complete within {budget:g} s", reason="upstream.timeout", url=url) from None
        except requests.RequestException as exc:
            raise UpstreamError(f"unreachable: {type(exc).__name__}", reason="upstream.unavailable", url=url) from None
        with response:
            if not 200 <= response.status_code < 300:
                raise UpstreamError(f"answered HTTP {response.status_code}", reason="upstream.status", url=url)
            data = self._read(response, url, until=until, read_timeout=budget)
            return UpstreamAnswer(response.status_code, data, response.headers.get("Content-Type"))

    def _read(self, response: requests.Response, url: str, *, until: float, read_timeout: float) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise UpstreamError(f"answer of {declared} bytes, more than {self.max_bytes}", reason="upstream.invalid", url=url)
        chunks: list[bytes] = []
        size = 0
        try:
            # read1: whatever one read brings, so that an answer trickling in cannot hold a read
            # open past the deadline (read() would wait to fill the whole chunk).
            while chunk := response.raw.read1(_CHUNK, decode_content=True):
                size += len(chunk)
                if size > self.max_bytes:
                    raise UpstreamError(f"answer longer than {self.max_bytes} bytes", reason="upstream.invalid", url=url)
                chunks.append(chunk)
                if self.clock() > until:
                    break
        except ReadTimeoutError:
            raise UpstreamError(f"answer not complete within {read_timeout:g} s", reason="upstream.timeout", url=url) from None
        except HTTPError as exc:
            raise UpstreamError(f"broken answer: {type(exc).__name__}", reason="upstream.invalid", url=url) from None
        if self.clock() > until:
            raise UpstreamError(f"answer not complete within {read_timeout:g} s", reason="upstream.timeout", url=url)
        return b"".join(chunks)
