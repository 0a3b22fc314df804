"""How long audited decisions are kept (``CALLGUARD_AUDIT_RETENTION``), and the instant before which they have expired.

The default is five years: the record-keeping period of the Telemarketing Sales Rule since
2024 (16 CFR 310.5(a)), which applies to the call records a seller or telemarketer keeps.
Only the decisions of the audit log expire: opt-outs, consent records and the change log are
records of another kind and are never pruned.

A retention is read from a short text: ``5y`` (calendar years: the same day and time that many
years before), ``400d`` (days of 86 400 seconds), ``36h``, ``90s`` or a bare number of seconds;
``forever`` keeps every decision. It is a floor, never a ceiling: nothing younger is pruned,
and a pruning run may leave older rows for a later run (on PostgreSQL, whole months).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

DEFAULT_RETENTION = "5y"
FOREVER = "forever"
SHORTEST = 3600.0  # seconds: a bare "5" meaning years would otherwise empty the audit log
LONGEST_YEARS = 100

_UNIT_SECONDS = {"d": 86_400, "h": 3_600, "s": 1, "": 1}
_FORM = re.compile(r"(\d{1,12})\s*([ydhs]?)", re.IGNORECASE)


@dataclass(frozen=True)
class Retention:
    """A retention of ``years`` calendar years plus ``seconds``; ``text`` is how it was written."""

    years: int = 0
    seconds: int = 0
    text: str = ""

    def cutoff(self, now: float) -> float:
        """The instant (epoch seconds) before which decisions made have expired at ``now``."""
        moment = datetime.fromtimestamp(now, UTC)
        if self.years:
            moment = _years_before(moment, self.years)
        return moment.timestamp() - self.seconds

    def __str__(self) -> str:
        return self.text or (f"{self.years}y" if self.years else f"{self.seconds}s")


def parse_retention(text: str) -> Retention | None:
    """The retention ``text`` names; None for ``forever``. Raises ValueError saying what is wrong."""
    written = text.strip()
    if written.lower() == FOREVER:
        return None
    form = _FORM.fullmatch(written)
    if form is None:
        raise ValueError(f"expected a duration such as 5y, 400d, 36h or seconds, or {FOREVER}, got {text!r}")
    count, unit = int(form.group(1)), form.group(2).lower()
    if unit == "y":
        if not 1 <= count <= LONGEST_YEARS:
            raise ValueError(f"expected 1 to {LONGEST_YEARS} years (or {FOREVER}), got {text!r}")
        return Retention(years=count, text=written)
    seconds = count * _UNIT_SECONDS[unit]
    if seconds < SHORTEST:
        raise ValueError(f"must be at least an hour (a bare number is seconds), got {text!r}")
    if seconds > LONGEST_YEARS * 366 * 86_400:
        raise ValueError(f"expected at most {LONGEST_YEARS} years (or {FOREVER}), got {text!r}")
    return Retention(seconds=seconds, text=written)


def _years_before(moment: datetime, years: int) -> datetime:
    """The same calendar day and time ``years`` earlier; 29 February becomes the 28th, which
    keeps a day more rather than a day less."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)
