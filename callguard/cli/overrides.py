"""``callguard suspend|resume`` and ``callguard block …``: runtime changes over the policy file.

They take effect on every worker and host sharing the database within a second, and each is
recorded in the change log (who, when, before, after).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click

from ..instants import BadInstant, parse_instant
from ..numbers.risk import validate_e164_prefix
from ..store.overrides import OverrideStore
from .context import CliContext, actor, actor_option, pass_cli, records_options
from .errors import BadUsage, Failed


@click.command()
@click.argument("account_sid")
@click.option("--reason", required=True, help="Why, for the record and the refusal sentence.")
@actor_option
@records_options
@pass_cli
def suspend(cli: CliContext, account_sid: str, reason: str, actor_name: str | None) -> None:
    """Suspend an account (and its subaccounts) at once, on every worker."""
    cli.account(account_sid, "ACCOUNT")
    OverrideStore(cli.engine()).set_suspended(account_sid, True, reason=reason, actor=actor(actor_name), now=time.time())
    click.echo(f"{account_sid}: suspended ({reason})")


@click.command()
@click.argument("account_sid")
@actor_option
@records_options
@pass_cli
def resume(cli: CliContext, account_sid: str, actor_name: str | None) -> None:
    """Lift a runtime suspension (also one the policy file sets). A suspended parent still binds."""
    cli.account(account_sid, "ACCOUNT")
    OverrideStore(cli.engine()).set_suspended(account_sid, False, reason=None, actor=actor(actor_name), now=time.time())
    click.echo(f"{account_sid}: resumed")


@click.group()
def block() -> None:
    """Prefix blocks made at runtime."""


def _expiry(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except BadInstant as exc:
        raise BadUsage(f"--expires: {exc}") from None


@block.command("add")
@click.argument("prefix")
@click.option("--account", "account_sid", help="Only this account and its subaccounts (default: every account).")
@click.option("--reason", required=True, help="Why, for the record and the refusal sentence.")
@click.option("--expires", help="When the block lapses (ISO 8601).")
@actor_option
@records_options
@pass_cli
def block_add(cli: CliContext, prefix: str, account_sid: str | None, reason: str, expires: str | None, actor_name: str | None) -> None:
    """Block an E.164 prefix."""
    problem = validate_e164_prefix(prefix)
    if problem:
        raise BadUsage(f"PREFIX: {problem}")
    if account_sid is not None:
        cli.account(account_sid)
    cli.policy()
    block_id = OverrideStore(cli.engine()).add_block(
        prefix, account_sid=account_sid, reason=reason, expires_at=_expiry(expires), actor=actor(actor_name), now=time.time()
    )
    click.echo(f"block {block_id}: {prefix} ({account_sid or 'every account'}): {reason}")


@block.command("list")
@records_options
@pass_cli
def block_list(cli: CliContext) -> None:
    """Runtime blocks in force."""
    cli.policy()
    blocks = OverrideStore(cli.engine()).blocks()
    click.echo("id\tprefix\taccount\texpires\tcreated_by\treason")
    for b in blocks:
        until = datetime.fromtimestamp(b.expires_at, tz=UTC).isoformat() if b.expires_at else "-"
        click.echo(f"{b.id}\t{b.prefix}\t{b.account_sid or '*'}\t{until}\t{b.created_by}\t{b.reason}")


@block.command("lift")
@click.argument("block_id", type=int)
@actor_option
@records_options
@pass_cli
def block_lift(cli: CliContext, block_id: int, actor_name: str | None) -> None:
    """Lift a runtime block."""
    cli.policy()
    if not OverrideStore(cli.engine()).lift_block(block_id, actor=actor(actor_name), now=time.time()):
        raise Failed(f"block {block_id}: no such block in force")
    click.echo(f"block {block_id}: lifted")
