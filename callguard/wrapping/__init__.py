"""Put callguard in front of voice apps that already exist, without any web framework.

- :mod:`.policing`: decide every ``<Dial>`` target of an app's TwiML and rewrite the document;
- :mod:`.chaining`: callback URLs that lead through callguard and on to an app's own;
- :class:`GuardedClient` (:mod:`.rest`): a ``twilio.rest.Client`` whose ``calls.create`` asks
  callguard first.

The web layer builds on these: ``CallGuard(app)`` and ``@guard.protect`` on Flask
(:mod:`callguard.web.protect`), :class:`~callguard.web.middleware.GuardMiddleware` for any WSGI
app, and the policy's proxy routes (:mod:`callguard.web.proxy`).
"""

from __future__ import annotations

from .policing import Callbacks, PolicedDocument, WrappedCall, police_twiml
from .rest import GuardedClient

__all__ = ["Callbacks", "GuardedClient", "PolicedDocument", "WrappedCall", "police_twiml"]
