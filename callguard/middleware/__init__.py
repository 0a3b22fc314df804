"""Put callguard in front of voice apps that already exist.

- :mod:`.policing`: decide every ``<Dial>`` target of an app's TwiML and rewrite the document;
- :class:`GuardMiddleware`: a WSGI middleware for any framework (Django, Pyramid, …);
- :class:`GuardedClient`: a ``twilio.rest.Client`` whose ``calls.create`` asks callguard first;
- :mod:`.upstream`: the HTTP client the proxy routes and chained status callbacks use.

On Flask, ``CallGuard(app)`` and ``@guard.protect`` do the same (:mod:`callguard.web.protect`),
and the policy's ``[[proxy.routes]]`` put callguard in front of an app it does not run
(:mod:`callguard.web.proxy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import CallBlocked
from .policing import Callbacks, PolicedDocument, WrappedCall, police_twiml
from .rest import GuardedClient

if TYPE_CHECKING:
    from .wsgi import GuardMiddleware


def __getattr__(name: str) -> Any:
    # The WSGI middleware builds a callguard Flask app; imported on first use so that the web
    # layer, which imports this package, is not imported half-way through itself.
    if name == "GuardMiddleware":
        from .wsgi import GuardMiddleware

        return GuardMiddleware
    raise AttributeError(f"module 'callguard.middleware' has no attribute {name!r}")


__all__ = [
    "CallBlocked",
    "Callbacks",
    "GuardMiddleware",
    "GuardedClient",
    "PolicedDocument",
    "WrappedCall",
    "police_twiml",
]
