"""Any dial string: normalisation answers (never raises); a valid number's E.164 form reads back
as itself (opt-outs, consents and the audit are keyed by it); and the engine connects a PSTN
target only when it is a valid number."""

from __future__ import annotations

import phonenumbers

from callguard import Action, DialRequest
from callguard.numbers import TargetKind, normalize_dial_string

from .driver import fuzz
from .guards import ACCOUNT, CALLER_ID, mixed_guard

REGIONS = ("US", "GB", "DE", None)
GUARD = mixed_guard()


def check(data: bytes) -> None:
    if not data:
        return
    region = REGIONS[data[0] % len(REGIONS)]
    raw = data[1:].decode("utf-8", "replace")
    target = normalize_dial_string(raw, default_region=region, outside_line_prefix="9" if data[0] & 4 else None)
    if target.kind is TargetKind.PSTN:
        e164 = target.e164
        if e164 is None or not e164.startswith("+") or not e164[1:].isdigit():
            raise AssertionError(f"{raw!r} read as PSTN {e164!r}, not in E.164 form")
        again = normalize_dial_string(e164, default_region=region)
        # The number as dialled decides validity (its E.164 text may read as another, valid one:
        # +55 012 0995550123900); an invalid one is refused whatever its form.
        valid = target.number is not None and phonenumbers.is_valid_number(target.number)
        if valid and (again.kind is not TargetKind.PSTN or again.e164 != e164):
            raise AssertionError(f"{e164!r} (from {raw!r}) reads back as {again.kind} {again.e164!r}")
    decision = GUARD.check(DialRequest(ACCOUNT, raw, CALLER_ID))
    if decision.action is Action.CONNECT and decision.target.kind is TargetKind.PSTN:
        e164 = decision.target.e164
        if e164 is None or not phonenumbers.is_valid_number(phonenumbers.parse(e164)):
            raise AssertionError(f"{raw!r} connected as {e164!r}, not a valid number")


if __name__ == "__main__":
    fuzz(check)
