"""Cells of the CSV files callguard writes, made safe to open in a spreadsheet.

``To``, ``From`` and ``CallSid`` of an audited call come from the caller (a Voice SDK client
chooses them), and so may a note: a cell such as ``=HYPERLINK(…)`` or ``@SUM(…)`` would reach a
spreadsheet as a formula. OWASP's rule for CSV injection: a cell that begins with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is written with a ``'`` in front, so that it reads as
text. A cell that is wholly a number (``-5``, ``+1.5``) or an E.164 number (``+14155550100``) is
no formula and stays as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def safe_cell(value: object) -> str:
    """``value`` as CSV cell text (None is empty) that no spreadsheet reads as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def safe_row(values: Iterable[object]) -> list[str]:
    """Each of ``values`` as a :func:`safe_cell`."""
    return [safe_cell(value) for value in values]
