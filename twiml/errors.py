"""The one error of the TwiML layer: a document it will not act on."""

from __future__ import annotations


class TwimlError(ValueError):
    """A TwiML document that is malformed, hostile, too large or not a ``<Response>``.

    ``problem`` says what is wrong; ``line`` and ``column`` locate a syntax error when the parser
    knows where it is (columns from 0).
    """

    def __init__(self, problem: str, *, line: int | None = None, column: int | None = None) -> None:
        self.problem = problem
        self.line = line
        self.column = column
        where = f" (line {line}, column {column})" if line is not None else ""
        super().__init__(f"{problem}{where}")
