"""The two kinds of answer a webhook gives: TwiML (with the decision header) or a bare 403."""

from __future__ import annotations

from flask import Response

from ..decision import DECISION_HEADER, Decision

__all__ = ["DECISION_HEADER", "TWIML_MIMETYPE", "forbidden", "twiml_response"]

TWIML_MIMETYPE = "application/xml"


def twiml_response(body: str, decision: Decision | None = None, *, header_value: str | None = None) -> Response:
    response = Response(body, status=200, mimetype=TWIML_MIMETYPE)
    value = decision.header_value() if decision is not None else header_value
    if value:
        response.headers[DECISION_HEADER] = value
    return response


def forbidden() -> Response:
    """An unsigned or mis-signed request gets 403 and nothing else."""
    return Response("Forbidden\n", status=403, mimetype="text/plain")
