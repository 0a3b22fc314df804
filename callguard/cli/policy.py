"""``callguard policy validate``: check a policy file."""

from __future__ import annotations

import click

from ..errors import ConfigError
from ..policy.loader import load_policy
from .errors import Failed


@click.group()
def policy() -> None:
    """Work with policy files."""


@policy.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def policy_validate(file: str) -> None:
    """Check a policy file; print what is wrong, naming the key, or a summary. Exit 1 if it is wrong."""
    try:
        loaded = load_policy(file)
    except ConfigError as exc:
        raise Failed(str(exc)) from None
    subaccounts = sum(1 for a in loaded.accounts.values() if a.parent)
    click.echo(
        f"{file}: ok ({len(loaded.accounts)} accounts, {subaccounts} of them subaccounts; "
        f"{len(loaded.blocked_prefixes)} blocked prefixes)"
    )
