"""Refuse dial strings that are not a valid, dialable number (or a non-PSTN target the policy refuses)."""

from __future__ import annotations

from ..decision import Refusal
from ..numbers.dialstring import TargetKind
from ..numbers.regions import region_name
from ..policy.model import NonPstnMode
from .context import DialContext, Outcome

_NON_PSTN = {
    TargetKind.CLIENT: "client identity",
    TargetKind.SIP: "SIP endpoint",
    TargetKind.CONFERENCE: "conference",
    TargetKind.QUEUE: "queue",
}


def check_destination(ctx: DialContext) -> Outcome:
    target = ctx.target
    kind = target.kind
    if kind is TargetKind.PSTN:
        info = ctx.info
        assert info is not None
        if not info.valid:
            return Refusal(
                "destination",
                "destination.invalid",
                f"{target.e164} (dialled as {target.raw!r}) is not a valid number in {region_name(info.region, info.country_code)}.",
            )
        if info.region is not None and info.region != ctx.caller_region and not info.internationally_dialable:
            return Refusal(
                "destination",
                "destination.not_dialable",
                f"{target.e164} cannot be dialled from outside {region_name(info.region)}.",
            )
        return None
    if kind is TargetKind.INVALID:
        return Refusal("destination", "destination.invalid", f"{target.raw!r} cannot be dialled: {target.error}.")
    if kind in _NON_PSTN:
        mode = ctx.account.non_pstn if ctx.account is not None else ctx.policy.defaults.non_pstn
        if mode is NonPstnMode.CONNECT:
            return None
        what = _NON_PSTN[kind]
        return Refusal(
            "destination",
            "destination.non_pstn",
            f"{target.dial_value!r} is a {what}, not a phone number, and the policy does not connect those.",
        )
    return None  # emergency targets never reach this check
