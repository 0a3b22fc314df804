"""The callguard exception tree.

Every error callguard raises on purpose derives from :class:`CallguardError` and carries the
context a caller needs (which file, which key, which account) as attributes, so handlers and
the CLI never have to parse message strings. The TwiML layer has its own,
:class:`~twiml.errors.TwimlError` (a ``ValueError``), re-exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twiml.errors import TwimlError

__all__ = [
    "CallBlocked",
    "CallguardError",
    "ConfigError",
    "MissingExtra",
    "PolicyError",
    "SchemaMismatch",
    "SignatureError",
    "StaleData",
    "StoreUnavailable",
    "TwilioSyncError",
    "TwimlError",
    "UpstreamError",
]

if TYPE_CHECKING:
    from .decision import Decision


class CallguardError(Exception):
    """Base class of every error callguard raises on purpose."""


class ConfigError(CallguardError):
    """Configuration or policy that callguard cannot run with.

    ``source`` names the file or setting the problem is in, ``key`` the dotted key inside it
    (``accounts.AC....permissions.GB.low_risk``) and ``problem`` what is wrong. ``line`` is set
    when the problem is a syntax error at a known line.
    """

    def __init__(
        self, problem: str, *, source: str | None = None, key: str | None = None, line: int | None = None
    ) -> None:
        self.problem = problem
        self.source = source
        self.key = key
        self.line = line
        super().__init__(self._message())

    def _message(self) -> str:
        parts = []
        if self.source:
            parts.append(self.source if self.line is None else f"{self.source}:{self.line}")
        if self.key:
            parts.append(self.key)
        parts.append(self.problem)
        return ": ".join(parts)


class MissingExtra(ConfigError):
    """A setting needs an optional dependency that is not installed.

    ``extra`` is the extra that installs it (``redis``, ``postgres``), ``package`` the package
    that could not be imported, ``setting`` the setting that asked for it, ``install`` the
    command that installs it.
    """

    def __init__(self, *, extra: str, package: str, setting: str, install: str, source: str | None = None) -> None:
        self.extra = extra
        self.package = package
        self.install = install
        super().__init__(f"needs the {extra} extra ({package} is not installed): {install}", source=source, key=setting)


class PolicyError(CallguardError):
    """A request the policy cannot be applied to (for example an account it does not know)."""

    def __init__(self, problem: str, *, account_sid: str | None = None) -> None:
        self.problem = problem
        self.account_sid = account_sid
        super().__init__(problem if account_sid is None else f"{account_sid}: {problem}")


class StoreUnavailable(CallguardError):
    """A durable store or counter backend could not be reached or refused a write."""

    def __init__(self, problem: str, *, backend: str, operation: str | None = None) -> None:
        self.problem = problem
        self.backend = backend
        self.operation = operation
        where = backend if operation is None else f"{backend} ({operation})"
        super().__init__(f"{where}: {problem}")


class SchemaMismatch(CallguardError):
    """The records database's schema is not at the revision this callguard needs.

    ``current`` is the database's revision (None: no migration history), ``required`` the code's.
    """

    def __init__(self, problem: str, *, current: str | None, required: str) -> None:
        self.problem = problem
        self.current = current
        self.required = required
        super().__init__(f"CALLGUARD_DATABASE_URL: {problem}")


class StaleData(CallguardError):
    """Data read from a backend that could not be refreshed for longer than its staleness limit.

    ``what`` names the data, ``fresh_until`` is when it stopped being usable (epoch seconds).
    """

    def __init__(self, what: str, *, fresh_until: float) -> None:
        self.what = what
        self.fresh_until = fresh_until
        super().__init__(f"{what} could not be refreshed and is past its staleness limit")


class SignatureError(CallguardError):
    """A webhook request whose X-Twilio-Signature does not verify."""

    def __init__(self, problem: str, *, account_sid: str | None = None, url: str | None = None) -> None:
        self.problem = problem
        self.account_sid = account_sid
        self.url = url
        super().__init__(problem)


class TwilioSyncError(CallguardError):
    """Reading an account's picture from Twilio's REST API failed.

    ``kind`` says how, in words stable enough to count by: ``unreachable`` (no connection or a
    timeout), ``rate_limited`` (429 after every retry), ``server_error`` (5xx after every retry),
    ``auth`` (401/403), ``not_found``, ``rejected`` (another 4xx), ``invalid_answer`` (a body that
    is not what Twilio documents), ``limit`` (more records than callguard keeps), ``config``
    (credentials callguard cannot find). ``resource`` is the REST path that failed, ``status``
    and ``code`` Twilio's HTTP status and error code when there was an answer.
    """

    def __init__(
        self,
        problem: str,
        *,
        kind: str,
        account_sid: str | None = None,
        resource: str | None = None,
        status: int | None = None,
        code: int | None = None,
    ) -> None:
        self.problem = problem
        self.kind = kind
        self.account_sid = account_sid
        self.resource = resource
        self.status = status
        self.code = code
        super().__init__(problem if account_sid is None else f"{account_sid}: {problem}")


class UpstreamError(CallguardError):
    """An app behind callguard that could not be reached, was too slow, or answered no usable TwiML.

    ``reason`` is the stable code callguard answers with (``upstream.timeout``, ``upstream.unavailable``,
    ``upstream.status``, ``upstream.invalid``, ``upstream.fault``); ``url`` is where the app was asked.
    """

    def __init__(self, problem: str, *, reason: str, url: str | None = None) -> None:
        self.problem = problem
        self.reason = reason
        self.url = url
        super().__init__(problem if url is None else f"{url}: {problem}")


class CallBlocked(CallguardError):
    """A call the policy refuses, raised by the guarded REST client before anything is sent to Twilio.

    ``decision`` is the engine's :class:`~callguard.decision.Decision` (action, reasons, sentence).
    """

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        super().__init__(f"call to {decision.request.to!r} blocked ({','.join(decision.reasons)}): {decision.sentence}")
