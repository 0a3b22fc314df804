"""Check ``X-Twilio-Signature`` with the auth token of the request's account.

Twilio signs each webhook with the auth token of the account the call belongs to (subaccounts
have their own), over the URL it requested plus the sorted POST parameters. The tokens come
from the environment variables the policy names (``auth_token_env``; a comma-separated value
holds several tokens, for rotation), or ``TWILIO_AUTH_TOKEN`` for accounts that name none.
"""

from __future__ import annotations

import base64
import functools
import hmac
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.request_validator import HMAC_SHA1, HMAC_SHA256, RequestValidator, get_signature_algorithm
from werkzeug.datastructures import MultiDict

from ..policy.auth_tokens import resolve_auth_tokens
from ._fast import multidict_lists

__all__ = ["SignatureValidator", "resolve_auth_tokens"]


def _other_port_form(url: str) -> str | None:
    """The URL with its default port added if absent, or removed if present (Twilio signs either)."""
    parts = urlsplit(url)
    if parts.port is not None:
        host = parts.netloc.rsplit(":", 1)[0]
        return urlunsplit(parts._replace(netloc=host))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    port = 443 if parts.scheme == "https" else 80
    return urlunsplit(parts._replace(netloc=f"{parts.netloc}:{port}"))


def _url_forms(url: str) -> Iterator[str]:
    yield url
    other = _other_port_form(url)  # only worked out when the URL as given did not match
    if other is not None:
        yield other


_DIGESTS = {HMAC_SHA1: "sha1", HMAC_SHA256: "sha256"}


@functools.lru_cache(maxsize=256)
def _keyed_hmac(token: bytes, digest: str) -> hmac.HMAC:
    """An HMAC with ``token`` already keyed in, to be copied for each message.

    ``hmac.digest`` would key it afresh each time, and it releases the GIL for every call however
    short the message: in a worker with background threads (the audit writer), the request then
    waits for the GIL to come back. A copy is one context copy, and ``update`` keeps the GIL
    for the few hundred bytes a webhook signs."""
    return hmac.new(token, digestmod=digest)


def compute_signature(token: bytes, url: str, params: Any, algorithm: str | None = None) -> str:
    """``X-Twilio-Signature`` for ``url`` and ``params``, exactly as twilio's
    ``RequestValidator.compute_signature`` computes it (the test suite holds the two equal),
    from a copy of an HMAC keyed once per token: every webhook pays for it.

    ``params``: a mapping, or a multi-value mapping (``lists``, ``getall`` or ``getlist``)."""
    digest = _DIGESTS.get((algorithm or HMAC_SHA1).upper())
    if digest is None:
        raise ValueError(f"Unsupported webhook signature algorithm: {algorithm}")
    parts = [url]
    if params:
        if isinstance(params, MultiDict):  # as Flask parses a form
            named: Any = multidict_lists(params)
        elif (lists := getattr(params, "lists", None)) is not None:
            named = lists()
        else:
            getlist = getattr(params, "getall", None) or getattr(params, "getlist", None)
            named = ((name, getlist(name) if getlist is not None else [params[name]]) for name in set(params))
        for name, values in sorted(named):  # twilio's order: names sorted, then each name's distinct values
            for value in sorted(set(values)) if len(values) > 1 else values:
                parts.append(name)
                parts.append(value)
    mac = _keyed_hmac(token, digest).copy()
    mac.update("".join(parts).encode("utf-8"))
    return base64.b64encode(mac.digest()).decode("ascii")


class SignatureValidator:
    """Validates webhook signatures for the accounts of one policy.

    Signatures are computed as twilio's own ``RequestValidator`` computes them
    (:func:`compute_signature`); unlike its ``validate()``, which always computes the signature
    twice (with and without the port), this tries the URL as given first and the other port
    form only when that fails.
    """

    def __init__(self, tokens: Mapping[str, tuple[str, ...]], default: tuple[str, ...]) -> None:
        self._validators = {sid: tuple(RequestValidator(t) for t in ts) for sid, ts in tokens.items()}
        self._default = tuple(RequestValidator(t) for t in default)

    def has_token_for(self, account_sid: str | None) -> bool:
        return bool(self.validators_for(account_sid))

    def validators_for(self, account_sid: str | None) -> tuple[RequestValidator, ...]:
        """The account's validators, current token first (the default token's for unknown accounts)."""
        return self._validators.get(account_sid or "") or self._default

    def tokens_for(self, account_sid: str | None) -> tuple[bytes, ...]:
        """The account's auth tokens: the keys of the HMAC tags on callback URLs callguard chains."""
        return tuple(validator.token for validator in self.validators_for(account_sid))

    def validate(
        self,
        account_sid: str | None,
        url: str,
        params: Any,
        signature: str | None,
        *,
        settings_header: str | None = None,
    ) -> bool:
        return self.signer(account_sid, url, params, signature, settings_header=settings_header) is not None

    def signer(
        self,
        account_sid: str | None,
        url: str,
        params: Any,
        signature: str | None,
        *,
        settings_header: str | None = None,
    ) -> RequestValidator | None:
        """The validator whose token made ``signature``, or None if none did."""
        if not signature:
            return None
        validators = self.validators_for(account_sid)
        if not validators:
            return None
        algorithm = get_signature_algorithm(settings_header) if settings_header else HMAC_SHA1
        try:
            for candidate in _url_forms(url):
                for validator in validators:
                    if hmac.compare_digest(compute_signature(validator.token, candidate, params, algorithm), signature):
                        return validator
        except (ValueError, TypeError, UnicodeError):  # unsupported algorithm, non-ASCII signature
            return None
        return None
