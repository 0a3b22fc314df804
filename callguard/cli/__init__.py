"""The ``callguard`` command line: one click group, one module per command family.

Every command shares one :class:`~callguard.cli.context.CliContext` (the policy, records
database and counters its options name, opened once) and fails one way
(:mod:`callguard.cli.errors`): one line on stderr, exit status 2 for bad input, 1 for a failure.
"""

from __future__ import annotations

from typing import Any

import click

from ..errors import CallguardError
from .check import check
from .complaints import complaint
from .db import db
from .errors import as_command_error
from .overrides import block, resume, suspend
from .policy import policy
from .records import consent, optout
from .registry import registry
from .serve import serve
from .simulate import simulate_command
from .sync import sync
from .traffic import report, traffic

__all__ = ["main"]


class CallguardGroup(click.Group):
    """The group that turns callguard's own errors into the exit-status rule of :mod:`.errors`."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CallguardError as exc:
            raise as_command_error(exc) from None


@click.group(cls=CallguardGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="callguard-voice")
def main() -> None:
    """callguard: call-control middleware for Twilio voice."""


for _command in (
    serve, check, simulate_command, policy, optout, consent, complaint, suspend, resume, block, report, traffic, sync, registry, db
):
    main.add_command(_command)
