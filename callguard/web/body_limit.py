"""How much of a request's body callguard reads: ``CALLGUARD_MAX_BODY_BYTES``, on its own requests only.

Twilio's webhooks are a few KB; a much larger body is refused before it is read. The limit is
set on each request callguard handles (Flask's per-request ``max_content_length``: its webhooks,
the views it protects, its JSON API), not as the app's ``MAX_CONTENT_LENGTH``, so that
``CallGuard(app)`` leaves the limits of the host app's own routes (its uploads) as they were.

A request that declares a length within the limit needs no more: the server reads no further
than its Content-Length. Only one declaring more (refused with 413 at once) or none (a chunked
body, cut off at the limit) gets werkzeug's limit, whose wrapping stream would otherwise cost
every webhook a measurable share of its time.
"""

from __future__ import annotations

from flask import Request
from werkzeug.wsgi import get_content_length


def limit_body(req: Request, limit: int) -> None:
    """Have ``req`` refuse (413) a body over ``limit`` bytes when it is read."""
    length = get_content_length(req.environ)
    if length is not None and length <= limit:
        return
    current = req.max_content_length  # the app's own limit, if lower, stands
    if current is None or current > limit:
        req.max_content_length = limit
