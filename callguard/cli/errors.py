"""How a ``callguard`` command fails: one line on stderr, and an exit status that says why.

2: bad usage or configuration (an option, a setting, a line of an input file); 1: the command
ran and what it checked or asked for failed (a refused call, a server that did not answer).
"""

from __future__ import annotations

from typing import IO, Any

import click


class CommandError(click.ClickException):
    """A command that cannot go on: ``callguard: <message>`` on stderr, exit status 2."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"callguard: {self.format_message()}", file=file, err=file is None)


class BadUsage(CommandError):
    """An option, setting or input the command cannot use (exit status 2)."""

    exit_code = 2


class Failed(CommandError):
    """What the command checked or asked for failed (exit status 1)."""

    exit_code = 1
