"""How a ``callguard`` command fails: one line on stderr, and one rule for the exit status.

- **2**: what the command was given is wrong: an option, a setting, a policy the command needs,
  a file it was asked to read (its name, its format, a line of it). Nothing was done.
- **1**: the command ran and its outcome is a failure: a call refused, a record not found, a
  check that found problems (``policy validate``, ``registry info --verify``, ``db check``), a
  server, the database or Twilio failing.

Commands raise :class:`BadUsage` or :class:`Failed`; callguard's own errors that reach the
group are sorted by :func:`as_command_error` (a :class:`~callguard.errors.ConfigError` is bad
input, any other :class:`~callguard.errors.CallguardError` a failure).
"""

from __future__ import annotations

from typing import IO, Any

import click

from ..errors import CallguardError, ConfigError


class CommandError(click.ClickException):
    """A command that cannot go on: ``callguard: <message>`` on stderr."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"callguard: {self.format_message()}", file=file, err=file is None)


class BadUsage(CommandError):
    """An option, setting or input the command cannot use (exit status 2)."""

    exit_code = 2


class Failed(CommandError):
    """What the command did or checked failed (exit status 1)."""

    exit_code = 1


def as_command_error(error: CallguardError) -> CommandError:
    """The exit-status rule for callguard's own errors."""
    if isinstance(error, ConfigError):
        return BadUsage(str(error))
    return Failed(str(error))
