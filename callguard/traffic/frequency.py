"""A legal limit on how often one consumer may be called: at most ``max_calls`` telemarketing
calls within ``window`` seconds, counted across every caller ID and campaign of the account
family (France: 4 in 30 days; Florida, Oklahoma, Maryland: 3 in 24 hours).

The rules themselves are data, by the callee's country or US state
(:mod:`callguard.hours.contact_limits`); admission counts them beside the ``[traffic]`` limits,
in the same batch (:mod:`.admission`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .counters import MAX_WINDOW


@dataclass(frozen=True)
class CalleeFrequencyRule:
    max_calls: int
    window: float  # seconds, at most the counters' MAX_WINDOW
    where: str  # "country FR", "US state FL": whose law it is
    law: str  # the law's short name for a refusal's sentence ("Fla. Stat. 501.616(6)(b)")

    def __post_init__(self) -> None:
        if not 0 < self.window <= MAX_WINDOW or self.max_calls < 1:
            raise ValueError(f"a callee frequency rule counts at least 1 call over at most {MAX_WINDOW:g} s, got {self!r}")

    def within(self) -> str:
        """The window in words: "24 hours", "30 days"."""
        return in_words(self.window)


def in_words(seconds: float) -> str:
    """A duration as a refusal says it: whole days as days ("30 days"), one day or less as hours."""
    days, rest = divmod(seconds, 86_400)
    if not rest and days != 1:
        return f"{days:g} days"
    return f"{seconds / 3600:g} hours"
