"""Reading an import file a line at a time: the file's lines (UTF-8, or one line saying it is
not), and what happens to a bad line: the command stops naming it (exit 2, nothing imported),
or with ``--skip-bad-lines`` it is reported and skipped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

import click

from .errors import BadUsage


def read_lines(file: IO[str]) -> tuple[str, list[str]]:
    """The file's name (``<stdin>`` for a pipe) and its lines."""
    name = getattr(file, "name", "<stdin>")
    try:
        return name, list(file)
    except UnicodeDecodeError:
        raise BadUsage(f"{name}: not UTF-8 text") from None


@dataclass
class BadLines:
    """The bad lines of file ``name``: with ``skip``, reported and counted; else the first stops the command."""

    name: str
    skip: bool
    skipped: int = 0

    def bad(self, line_number: int, problem: str) -> None:
        message = f"{self.name}:{line_number}: {problem}"
        if not self.skip:
            raise BadUsage(message)
        click.echo(f"callguard: skipped {message}", err=True)
        self.skipped += 1
