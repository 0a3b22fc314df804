"""Spreadsheet-safe CSV cells (callguard.csv_cells): OWASP's rule for CSV injection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callguard.csv_cells import FORMULA_STARTS, safe_cell, safe_row


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("+14155550100", "+14155550100"),  # an E.164 number stays a number
        ("-5", "-5"),
        ("+1.5", "+1.5"),
        ("client:alice", "client:alice"),
        ("CA0123", "CA0123"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_formulas_are_written_as_text(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


@given(st.text())
def test_no_cell_begins_a_formula_unless_it_is_a_number(value: str) -> None:
    cell = safe_cell(value)
    assert cell in (value, "'" + value)
    if cell.startswith(FORMULA_STARTS):
        float(cell)  # wholly a number


def test_a_row() -> None:
    assert safe_row(["=1+1", None, "+14155550100"]) == ["'=1+1", "", "+14155550100"]
