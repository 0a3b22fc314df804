"""What goes into the engine and what comes out: :class:`DialRequest` and :class:`Decision`."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .errors import StoreUnavailable
from .numbers.classify import NumberInfo
from .numbers.dialstring import DialTarget


class Action(enum.StrEnum):
    """What happens to the call; its value (``str()``, ``format()``) is the word in headers and the audit log."""

    CONNECT = "connect"
    REJECT = "reject"
    DISCLOSE = "disclose"


# A plain slotted dataclass, as Decision is, not a frozen one: every dial target of every call
# builds one, and a frozen dataclass's __init__ costs a request more than 1 % (benchmarks/README.md).
# Treat it as read-only. Being mutable, it is not hashable.
@dataclass(slots=True)
class DialRequest:
    """One outbound dial to decide on, as Twilio (or an API caller) described it.

    ``to`` and ``from_`` are what the request carried (``To``/``From``); ``caller_id`` is an
    explicit caller ID the app asked for (the ``callerId`` parameter), which wins over ``From``.
    ``source`` says where the request came from (``webhook``, ``cli``, ``api``) for the audit log;
    ``campaign`` names the policy campaign the call belongs to (else the account's default).
    ``what_if`` marks a what-if (a pre-dial check that places nothing): checks read the counters
    and record nothing, so it takes no quota or concurrency slot. ``hold_seconds`` is how long a
    concurrency slot the call takes is held when no status callback reports the call's end
    (None: the policy's ``max_call_seconds``).
    """

    account_sid: str | None
    to: str
    from_: str | None = None
    caller_id: str | None = None
    call_sid: str | None = None
    sip_domain: str | None = None
    direction: str | None = None
    source: str = "api"
    campaign: str | None = None
    what_if: bool = False
    hold_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """One check's refusal: the check's name, a stable dotted code, and a sentence for people."""

    check: str
    code: str
    sentence: str


@dataclass(frozen=True, slots=True)
class Allow:
    """A check's verdict that the call connects at once, skipping the rest (emergency calls)."""

    code: str
    sentence: str


@dataclass(frozen=True, slots=True)
class Fault:
    """The internal fault a decision was made by the fail mode for.

    ``kind`` is the exception's class name (``StoreUnavailable``, ``StaleData``, ``RuntimeError``
    …), ``message`` its message; for a store or counter backend that failed
    (:class:`~callguard.errors.StoreUnavailable`), ``backend`` and ``operation`` say which and
    doing what. ``str()`` gives ``"kind: message"``, the text the audit log keeps.
    """

    kind: str
    message: str
    backend: str | None = None
    operation: str | None = None

    @classmethod
    def of(cls, exc: BaseException) -> Fault:
        if isinstance(exc, StoreUnavailable):
            return cls(type(exc).__name__, str(exc), exc.backend, exc.operation)
        return cls(type(exc).__name__, str(exc))

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


# A plain slotted dataclass, not a frozen one, though nothing changes one once made: a frozen
# dataclass sets each field through object.__setattr__, which costs a request more than 1 %
# (benchmarks/README.md). Treat it as read-only.
@dataclass(slots=True)
class Decision:
    """The engine's answer for one dial.

    ``reasons`` are the dotted codes of every refusal in check order (the first one decided),
    or a single connect code (``ok``, ``emergency``, ``fault.fail_open``). ``checks`` names the
    checks that ran; a check that could not apply (geo permissions for an unknown account, say)
    is not listed. ``fault`` is set when the fail mode decided: the fault's kind, message and,
    for a store outage, backend and operation.
    """

    action: Action
    reasons: tuple[str, ...]
    sentence: str
    request: DialRequest
    target: DialTarget
    info: NumberInfo | None
    caller_id: str | None
    account_name: str | None
    checks: tuple[str, ...]
    refusals: tuple[Refusal, ...] = ()
    decided_at: float = 0.0
    elapsed_us: float = 0.0
    fault: Fault | None = None
    campaign: str | None = None  # the campaign whose rules applied (a disclose plays its disclosure)

    @property
    def reason(self) -> str:
        return self.reasons[0] if self.reasons else ""

    @property
    def e164(self) -> str | None:
        return self.target.e164

    @property
    def region(self) -> str | None:
        return self.info.region if self.info is not None else None

    @property
    def country_code(self) -> int | None:
        return self.info.country_code if self.info is not None else None

    @property
    def risk(self) -> str | None:
        return self.info.risk.value if self.info is not None else None

    @property
    def number_type(self) -> str | None:
        return self.info.type_name if self.info is not None else None

    def header_value(self) -> str:
        """The ``X-Callguard-Decision`` header: ``reject; reasons=geo.low_risk,callerid.not_owned``."""
        return f"{self.action}; reasons={','.join(self.reasons)}"

    def as_dict(self) -> dict[str, object]:
        return {
            "action": self.action.value,
            "reasons": list(self.reasons),
            "sentence": self.sentence,
            "account_sid": self.request.account_sid,
            "account_name": self.account_name,
            "call_sid": self.request.call_sid,
            "to": self.request.to,
            "from": self.request.from_,
            "target_kind": self.target.kind.value,
            "e164": self.target.e164,
            "dial": self.target.dial_value,
            "caller_id": self.caller_id,
            "region": self.region,
            "country_code": self.country_code,
            "number_type": self.number_type,
            "risk": self.risk,
            "checks": list(self.checks),
            "refusals": [{"check": r.check, "code": r.code, "sentence": r.sentence} for r in self.refusals],
            "decided_at": self.decided_at,
            "elapsed_us": round(self.elapsed_us, 1),
            "source": self.request.source,
            "campaign": self.campaign,
        }


# The response header every webhook answer carries: ``Decision.header_value()`` for one dial.
DECISION_HEADER = "X-Callguard-Decision"
