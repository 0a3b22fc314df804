"""Points in time written as ISO 8601 text, read one way by the admin API and the CLI.

A date-time without an offset is UTC; ``Z`` is accepted for ``+00:00``. Every instant read must
also be writable back: its UTC value lies in years 1 to 9999, which is what ``datetime`` holds
(``0001-01-01T00:00:00+14:00`` is in year 0 in UTC, and is refused here rather than failing later
when it is stored or shown).
"""

from __future__ import annotations

from datetime import UTC, datetime

# Epoch seconds of 10000-01-01T00:00:00Z: a float this large no longer reads back as year 9999.
_END = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp() + 1


class BadInstant(ValueError):
    """The text is not an ISO 8601 date-time, or its UTC value is outside years 1 to 9999."""

    def __init__(self, text: str, problem: str) -> None:
        super().__init__(f"{text!r} {problem}")
        self.text = text
        self.problem = problem


def parse_instant(text: str) -> float:
    """Epoch seconds of ``text`` (``2026-12-04``, ``2026-12-04T09:00:00Z``, ``…+01:00``)."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadInstant(text, "is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        epoch = parsed.astimezone(UTC).timestamp()
    except OverflowError:
        epoch = _END
    if epoch >= _END:
        raise BadInstant(text, "is outside years 1 to 9999 in UTC")
    return epoch
