"""``GuardMiddleware(wsgi_app, paths=…)``: callguard's checks in front of any WSGI app (Django, Pyramid …).

Requests to the guarded ``paths`` (exact paths, or every path under one ending in ``/``) must
carry a valid Twilio signature (403 otherwise, and the app is not called); the app then answers
as usual, and the TwiML it returns is policed like ``@guard.protect`` polices a Flask view's.
The app sees the request unchanged, so its own signature check keeps working.

callguard's own endpoints — the disclosure whisper, the opt-out prompt, /voice/status for the
status callbacks it injects, /voice/answer, /v1, /healthz, /metrics — are served by the
middleware itself, from callguard's blueprints on a small Flask app of its own; every other
request goes to the app untouched. callguard runs on a :class:`~callguard.runtime.runtime.Runtime`:
one given (``runtime=``), or one built as ``callguard serve`` builds it (``CALLGUARD_*``
environment variables, or ``config``); or the middleware serves an app made by
:func:`callguard.create_app` (``callguard=``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.wsgi import get_content_length

from ..errors import UpstreamError
from ..loggers import get_logger
from ..runtime.assemble import assemble
from ..runtime.runtime import Runtime
from ..runtime.settings import Settings, config_from_environment
from .app import create_app
from .protect import answer_response
from .responses import DECISION_HEADER, TWIML_MIMETYPE, forbidden
from .state import current_state
from .webhook import verified_request
from .wrapped import failed_answer, police_app_answer

log = get_logger("callguard.middleware")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _path_matcher(paths: Iterable[str]) -> Callable[[str], bool]:
    exact = {p for p in paths if not p.endswith("/")}
    prefixes = tuple(p for p in paths if p.endswith("/"))
    if not exact and not prefixes:
        raise ValueError("GuardMiddleware needs at least one path to guard")
    for path in (*exact, *prefixes):
        if not path.startswith("/"):
            raise ValueError(f"{path!r} is not a URL path: paths start with '/'")
    return lambda path: path in exact or path.startswith(prefixes)


class GuardMiddleware:
    """Wrap ``app`` so that the TwiML it answers on ``paths`` is checked and rewritten by callguard."""

    def __init__(
        self,
        app: WsgiApp,
        *,
        paths: Iterable[str],
        runtime: Runtime | None = None,
        config: Mapping[str, Any] | None = None,
        callguard: Flask | None = None,
        campaign: str | None = None,
    ) -> None:
        self.app = app
        self.campaign = campaign
        self.guarded = _path_matcher(tuple(paths))
        self.callguard = callguard if callguard is not None else _callguard_app(runtime, config)

    def close(self) -> None:
        """Close callguard's runtime: its workers stopped, the audit backlog written, connections released."""
        self.callguard.extensions["callguard"].close()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self._serves_itself(environ):  # callguard's own paths first: its callbacks must reach it
            return self.callguard(environ, start_response)
        if self.guarded(environ.get("PATH_INFO") or "/"):
            return self._guarded(environ, start_response)
        return self.app(environ, start_response)

    def _serves_itself(self, environ: dict[str, Any]) -> bool:
        try:
            self.callguard.url_map.bind_to_environ(environ).match()
        except MethodNotAllowed:
            return True
        except HTTPException:  # NotFound, or a redirect to add a slash: the app's path
            return False
        return True

    def _guarded(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        body = _read_body(environ, self.callguard.extensions["callguard"].settings.max_body_bytes)
        ours = dict(environ, **{"wsgi.input": io.BytesIO(body or b"")})
        with self.callguard.request_context(ours):
            state = current_state()
            verified = None if body is None else verified_request(state)
            if body is None or verified is None:
                return forbidden()(ours, start_response)
            call_sid = verified.params.get("CallSid")
            environ["wsgi.input"] = io.BytesIO(body)  # the app reads the same request
            try:
                status_line, status, headers, answer = _call(self.app, environ, state.upstream.max_bytes)
            except UpstreamError as exc:
                return answer_response(failed_answer(state, exc, call_sid=call_sid))(ours, start_response)
            except Exception as exc:
                log.exception("the guarded app raised")
                error = UpstreamError(f"the app raised {type(exc).__name__}", reason="upstream.fault")
                return answer_response(failed_answer(state, error, call_sid=call_sid))(ours, start_response)
            if not 200 <= status < 300:
                error = UpstreamError(f"the app answered HTTP {status}", reason="upstream.status")
                return answer_response(failed_answer(state, error, call_sid=call_sid))(ours, start_response)
            policed = police_app_answer(state, verified, answer, campaign=self.campaign, source="wrapped")
            if policed.as_written:
                headers = [(k, v) for k, v in headers if k.lower() != DECISION_HEADER.lower()]
            else:
                answer = policed.body.encode("utf-8") if isinstance(policed.body, str) else policed.body
                headers = [(k, v) for k, v in headers if k.lower() not in ("content-type", "content-length", DECISION_HEADER.lower())]
                headers += [("Content-Type", f"{TWIML_MIMETYPE}; charset=utf-8"), ("Content-Length", str(len(answer)))]
            headers.append((DECISION_HEADER, policed.header))
            start_response(status_line, headers)
            return [answer]


def _callguard_app(runtime: Runtime | None, config: Mapping[str, Any] | None) -> Flask:
    """callguard's own endpoints on ``runtime``, or on one built from the environment and ``config``."""
    merged = {**config_from_environment(), **(config or {})}
    if runtime is not None:
        return create_app(merged, runtime=runtime)
    built = assemble(Settings.from_mapping(merged), merged)
    try:
        return create_app(merged, runtime=built)
    except BaseException:
        built.close()  # an auth token or API token missing: nothing built stays open
        raise


def _read_body(environ: dict[str, Any], limit: int) -> bytes | None:
    """The request body, or None when it is larger than ``limit`` or unreadable (such a request is refused).

    A chunked body (no Content-Length) is read where the server ends the stream
    (``wsgi.input_terminated``, as gunicorn does), never more than one byte past the limit; the
    app is then handed it with its Content-Length, which every framework reads."""
    stream = environ.get("wsgi.input")
    if get_content_length(environ) is None or not environ.get("CONTENT_LENGTH"):  # chunked, or no length given
        if stream is None or not environ.get("wsgi.input_terminated"):
            return b""  # nothing the server lets us read safely: an empty body, as werkzeug reads it
        chunks: list[bytes] = []
        size = 0
        while size <= limit and (chunk := stream.read(limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            return None
        body = b"".join(chunks)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["CONTENT_LENGTH"] = str(len(body))
        return body
    try:
        length = int(environ["CONTENT_LENGTH"])
    except ValueError:
        return None
    if length < 0 or length > limit:
        return None
    return stream.read(length) if stream is not None and length > 0 else b""


def _call(app: WsgiApp, environ: dict[str, Any], limit: int) -> tuple[str, int, list[tuple[str, str]], bytes]:
    """Run the app; (status line, status code, headers, body), the body read only up to ``limit`` bytes."""
    started: list[Any] = []
    written: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        started[:] = [status, list(headers)]
        return written.append

    result = app(environ, start_response)
    try:
        size = sum(len(chunk) for chunk in written)
        chunks = list(written)
        for chunk in result:
            if size > limit:
                break
            size += len(chunk)
            chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if size > limit:
        raise UpstreamError(f"the app answered more than {limit} bytes", reason="upstream.invalid")
    if not started:
        raise UpstreamError("the app never started its response", reason="upstream.invalid")
    status, headers = started
    try:
        code = int(str(status).split(" ", 1)[0])
    except ValueError:
        raise UpstreamError(f"the app answered the status {status!r}", reason="upstream.invalid") from None
    return str(status), code, headers, b"".join(chunks)
