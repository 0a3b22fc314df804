"""``callguard suspend|resume`` and ``callguard block …``: runtime changes over the policy file.

They take effect on every worker and host sharing the database within a second, and each is
recorded in the change log (who, when, before, after).
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
from typing import Any, NoReturn

import click

from .records import _context, _records_options, cli_actor
from ..numbers.risk import validate_e164_prefix
from ..store.overrides import OverrideStore


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"callguard: {message}", err=True)
    sys.exit(code)


_actor_option = click.option("--actor", help="Who is making the change (default: cli:<user>).")


@click.command()
@click.argument("account_sid")
@click.option("--reason", required=True, help="Why, for the record and the refusal sentence.")
@_actor_option
@_records_options
def suspend(account_sid: str, reason: str, actor: str | None, policy_path: str | None, database_url: str | None) -> None:
    """Suspend an account (and its subaccounts) at once, on every worker."""
    with _context(policy_path, database_url) as (policy, engine):
        if policy.account(account_sid) is None:
            _fail(f"ACCOUNT: {account_sid} is not an account in {policy.source}", 2)
        OverrideStore(engine).set_suspended(account_sid, True, reason=reason, actor=cli_actor(actor), now=time.time())
        click.echo(f"{account_sid}: suspended ({reason})")


@click.command()
@click.argument("account_sid")
@_actor_option
@_records_options
def resume(account_sid: str, actor: str | None, policy_path: str | None, database_url: str | None) -> None:
    """Lift a runtime suspension (also one the policy file sets). A suspended parent still binds."""
    with _context(policy_path, database_url) as (policy, engine):
        account = policy.account(account_sid)
        if account is None:
            _fail(f"ACCOUNT: {account_sid} is not an account in {policy.source}", 2)
        OverrideStore(engine).set_suspended(account_sid, False, reason=None, actor=cli_actor(actor), now=time.time())
        click.echo(f"{account_sid}: resumed")


@click.group()
def block() -> None:
    """Prefix blocks made at runtime."""


def _expiry(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        _fail(f"--expires: {value!r} is not an ISO 8601 date-time", 2)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


@block.command("add")
@click.argument("prefix")
@click.option("--account", "account_sid", help="Only this account and its subaccounts (default: every account).")
@click.option("--reason", required=True, help="Why, for the record and the refusal sentence.")
@click.option("--expires", help="When the block lapses (ISO 8601).")
@_actor_option
@_records_options
def block_add(
    prefix: str, account_sid: str | None, reason: str, expires: str | None, actor: str | None, policy_path: str | None, database_url: str | None
) -> None:
    """Block an E.164 prefix."""
    problem = validate_e164_prefix(prefix)
    if problem:
        _fail(f"PREFIX: {problem}", 2)
    with _context(policy_path, database_url) as (policy, engine):
        if account_sid is not None and policy.account(account_sid) is None:
            _fail(f"--account: {account_sid} is not an account in {policy.source}", 2)
        block_id = OverrideStore(engine).add_block(
            prefix, account_sid=account_sid, reason=reason, expires_at=_expiry(expires), actor=cli_actor(actor), now=time.time()
        )
        click.echo(f"block {block_id}: {prefix} ({account_sid or 'every account'}): {reason}")


@block.command("list")
@_records_options
def block_list(policy_path: str | None, database_url: str | None) -> None:
    """Runtime blocks in force."""
    with _context(policy_path, database_url) as (_, engine):
        click.echo("id\tprefix\taccount\texpires\tcreated_by\treason")
        for b in OverrideStore(engine).blocks():
            until = datetime.fromtimestamp(b.expires_at, tz=timezone.utc).isoformat() if b.expires_at else "-"
            click.echo(f"{b.id}\t{b.prefix}\t{b.account_sid or '*'}\t{until}\t{b.created_by}\t{b.reason}")


@block.command("lift")
@click.argument("block_id", type=int)
@_actor_option
@_records_options
def block_lift(block_id: int, actor: str | None, policy_path: str | None, database_url: str | None) -> None:
    """Lift a runtime block."""
    with _context(policy_path, database_url) as (_, engine):
        if not OverrideStore(engine).lift_block(block_id, actor=cli_actor(actor), now=time.time()):
            _fail(f"block {block_id}: no such block in force")
        click.echo(f"block {block_id}: lifted")


def register(main: Any) -> None:
    for command in (suspend, resume, block):
        main.add_command(command)
