"""The facts every check reads: :class:`DialContext`, built once per decision by the engine.

Checks are pure functions ``check(ctx) -> None | Refusal | Allow | SKIP``: ``None`` passes,
a :class:`~callguard.decision.Refusal` refuses, an :class:`~callguard.decision.Allow` connects at
once (only emergency numbers do that), and :data:`SKIP` means the check could not apply (no
account, no number) and is not recorded as having run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Final, Union

from ..decision import Allow, DialRequest, Refusal
from ..numbers.classify import NumberInfo
from ..numbers.dialstring import DialTarget
from ..policy.model import Account, Policy


class _Skip:
    __slots__ = ()

    def __repr__(self) -> str:
        return "SKIP"


SKIP: Final = _Skip()

Outcome = Union[None, Refusal, Allow, _Skip]


@dataclass(slots=True)
class DialContext:
    request: DialRequest
    policy: Policy
    account: Account | None
    target: DialTarget
    info: NumberInfo | None  # set when the target is a PSTN number
    caller_region: str
    caller_id: str | None  # the E.164 caller ID the call would carry, when one could be chosen
    caller_id_valid: bool
    caller_id_source: str  # "callerId", "From", "sip_domain default", "account default", "none"
    now: float


Check = Callable[[DialContext], Outcome]
