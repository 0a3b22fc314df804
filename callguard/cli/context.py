"""What every ``callguard`` command shares: one :class:`CliContext` per invocation.

The options that name the policy, the records database and the counters fill it (each command
keeps its options, so ``callguard optout add N --policy P`` reads as it always has); what they
name is opened once, on first use, and closed when the command ends. Numbers, accounts and
campaigns given on the command line are read here, each failing with one line naming the option.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import CallguardError
from ..numbers.e164 import valid_e164
from ..policy.loader import load_policy
from ..policy.model import Account, Policy
from .errors import BadUsage, as_command_error

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from ..traffic.counters import CounterBackend

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_COUNTERS_PATH = "callguard-counters.db"


@dataclass
class CliContext:
    policy_path: str | None = None
    database_url: str | None = None
    redis_url: str | None = None
    counters_path: str = DEFAULT_COUNTERS_PATH
    redis_prefix: str = "callguard:"
    _policy: Policy | None = field(default=None, repr=False)
    _engine: Engine | None = field(default=None, repr=False)

    # -- the policy ------------------------------------------------------------------------------

    def policy(self) -> Policy:
        """The policy ``--policy`` names, loaded once; a missing or bad one is bad usage."""
        if self._policy is None:
            if not self.policy_path:
                raise BadUsage("--policy: no policy file given (or set CALLGUARD_POLICY)")
            try:
                self._policy = load_policy(self.policy_path)
            except CallguardError as exc:
                raise as_command_error(exc) from None
        return self._policy

    def account(self, sid: str, option: str = "--account") -> Account:
        policy = self.policy()
        account = policy.account(sid)
        if account is None:
            raise BadUsage(f"{option}: {sid} is not an account in {policy.source}")
        return account

    def campaign(self, campaign_id: str | None, option: str = "--campaign") -> str | None:
        """``campaign_id`` if the policy defines it (None: every campaign)."""
        policy = self.policy()
        if campaign_id is None or policy.campaign(campaign_id) is not None:
            return campaign_id
        known = ", ".join(sorted(policy.campaigns)) or "none"
        raise BadUsage(f"{option}: {campaign_id!r} is not a campaign in {policy.source} (its campaigns: {known})")

    def number(self, raw: str, account: Account | None, option: str = "NUMBER") -> str:
        """``raw`` as a valid E.164 number, read with the account's region (else the policy's default)."""
        region = account.default_region if account is not None else self.policy().defaults.default_region
        number = valid_e164(raw, region)
        if number is None:
            raise BadUsage(f"{option}: {raw!r} is not a valid phone number (read with region {region})")
        return number

    # -- what the policy's runtime data lives in ---------------------------------------------------

    def engine(self) -> Engine:
        """The records database (``--database-url``, else ./callguard.db), its schema checked, once."""
        if self._engine is None:
            from ..runtime.settings import auto_migrate
            from ..store.database import create_database_engine, default_database_url
            from ..store.migrate import ensure_schema

            url = self.database_url or default_database_url()
            try:
                engine = create_database_engine(url)
                ensure_schema(engine, upgrade=auto_migrate(os.environ, url))
            except CallguardError as exc:
                raise BadUsage(str(exc)) from None
            self._engine = engine
            click.get_current_context().call_on_close(engine.dispose)
        return self._engine

    def counters(self, *, must_exist: bool = True, create: bool = False) -> CounterBackend | None:
        """The traffic counters (``--redis-url``, else ``--counters-path``), closed when the command ends.

        None when the SQLite file does not exist and ``must_exist`` is false: nothing was counted.
        With ``create``, a missing file is made (a command that writes what the servers will read).
        """
        from ..store.counters import open_counters

        if self.redis_url is None and not create and not os.path.exists(self.counters_path):
            if must_exist:
                raise BadUsage(f"--counters-path: {self.counters_path} does not exist (no traffic recorded here yet?)")
            return None
        try:
            counters = open_counters(self.redis_url, self.counters_path, prefix=self.redis_prefix, timeout=2.0)
        except CallguardError as exc:
            raise as_command_error(exc) from None
        click.get_current_context().call_on_close(counters.close)
        return counters


pass_cli = click.make_pass_decorator(CliContext, ensure=True)


def _into_context(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def store(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is not None:
            setattr(ctx.ensure_object(CliContext), name, value)

    return store


def policy_option(function: F) -> F:
    return click.option(
        "--policy", "-p", envvar="CALLGUARD_POLICY", show_envvar=True, type=click.Path(dir_okay=False),
        expose_value=False, callback=_into_context("policy_path"), help="Policy file.",
    )(function)


def database_option(function: F) -> F:
    return click.option(
        "--database-url", envvar="CALLGUARD_DATABASE_URL", show_envvar=True, expose_value=False,
        callback=_into_context("database_url"), help="Records database (default: ./callguard.db).",
    )(function)


def records_options(function: F) -> F:
    """``--policy`` and ``--database-url``: what commands on opt-outs, consent and runtime changes need."""
    return policy_option(database_option(function))


def counters_options(function: F) -> F:
    function = click.option(
        "--redis-prefix", envvar="CALLGUARD_REDIS_PREFIX", show_envvar=True, default="callguard:", show_default=True,
        expose_value=False, callback=_into_context("redis_prefix"), help="Prefix of callguard's keys in Redis.",
    )(function)
    function = click.option(
        "--counters-path", envvar="CALLGUARD_COUNTERS_PATH", show_envvar=True, default=DEFAULT_COUNTERS_PATH, show_default=True,
        expose_value=False, callback=_into_context("counters_path"),
        help="The SQLite file of the counters (one host; unused with --redis-url).",
    )(function)
    return click.option(
        "--redis-url", envvar="CALLGUARD_REDIS_URL", show_envvar=True, expose_value=False, callback=_into_context("redis_url"),
        help="Counters in Redis (else the SQLite file).",
    )(function)


def actor_option(function: F) -> F:
    return click.option("--actor", "actor_name", help="Who is making the change (default: cli:<user>).")(function)


def actor(given: str | None = None) -> str:
    """Who the change log names for a change made with the CLI: ``--actor``, else ``cli:<user>``."""
    if given:
        return given
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in this environment
        return "cli"
