"""Which API token a request to /v1 carries, compared in constant time (the tokens are settings:
:mod:`callguard.runtime.admin_tokens`)."""

from __future__ import annotations

import hmac

from ...runtime.admin_tokens import ApiToken


def authenticate(tokens: tuple[ApiToken, ...], authorization: str | None) -> ApiToken | None:
    """The token an ``Authorization: Bearer …`` header carries, or None."""
    if not authorization or not authorization.startswith("Bearer "):
        return None
    presented = authorization[len("Bearer ") :].strip().encode()
    found = None
    for token in tokens:  # compare against every token, so timing says nothing about which matched
        if hmac.compare_digest(token.secret.encode(), presented):
            found = token
    return found
