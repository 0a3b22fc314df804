"""The facts every check reads: :class:`DialContext`, built once per decision by the engine.

Checks are pure functions ``check(ctx) -> None | Refusal | Allow | SKIP``: ``None`` passes,
a :class:`~callguard.decision.Refusal` refuses, an :class:`~callguard.decision.Allow` connects at
once (only emergency numbers do that), and :data:`SKIP` means the check could not apply (no
account, no number) and is not recorded as having run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ..decision import Allow, DialRequest, Refusal
from ..lookups import Lookups
from ..numbers.classify import NumberInfo
from ..numbers.dialstring import DialTarget, TargetKind
from ..policy.model import Account, Campaign, Policy


class _Skip:
    __slots__ = ()

    def __repr__(self) -> str:
        return "SKIP"


SKIP: Final = _Skip()

Outcome = Refusal | Allow | _Skip | None


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
    campaign_id: str | None = None  # asked for by the request, or the account's default
    campaign: Campaign | None = None  # None when there is no campaign or it is unknown
    lookups: Lookups | None = None
    refused: bool = False  # set by the engine once any check has refused
    # Called by the engine if the call ends up refused: checks that counted the call give it back.
    # None until a check adds one (most calls are counted by nothing).
    on_reject: list[Callable[[], None]] | None = None

    @property
    def telemarketing_number(self) -> bool:
        """A valid PSTN number called by a known account for a telemarketing campaign."""
        campaign = self.campaign
        return (
            campaign is not None
            and campaign.telemarketing
            and self.account is not None
            and self.target.kind is TargetKind.PSTN
            and self.info is not None
            and self.info.valid
        )


Check = Callable[[DialContext], Outcome]
