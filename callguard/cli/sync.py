"""``callguard sync``: read every synced account from Twilio now, and store it for every worker and host.

Running workers pick the result up within a second, as they pick up runtime changes. The
command waits for no schedule, but will not run while another sync is in progress. One line per
account; a failure is one line on stderr naming the account, the REST resource and Twilio's
answer, and the exit status is 1 (2 for bad usage or configuration).
"""

from __future__ import annotations

import logging

import click

from ..loggers import get_logger
from .context import CliContext, pass_cli, records_options
from .errors import BadUsage, Failed


@click.command()
@click.option("--account", "accounts", multiple=True, help="Only the family of this account (repeatable; default: every synced account).")
@records_options
@pass_cli
def sync(cli: CliContext, accounts: tuple[str, ...]) -> None:
    """Read numbers, caller IDs, subaccounts and dialing permissions from Twilio now."""
    from ..runtime.settings import Settings, config_from_environment
    from ..runtime.twilio_sync import build_twilio_sync

    # Failures are reported below, one line each; the runner's log lines would repeat them.
    get_logger("callguard").addHandler(logging.NullHandler())
    config = config_from_environment()
    policy = cli.policy()
    engine = cli.engine()
    settings = Settings.from_mapping({**config, "CALLGUARD_POLICY": cli.policy_path})
    for sid in accounts:
        cli.account(sid)
    runner = build_twilio_sync(
        engine, config=config, clock=settings.clock, sleep=settings.sleep,
        interval=settings.twilio_sync_interval, base_url=settings.twilio_base_url,
    )
    report = runner.run(policy, force=True, only=accounts)
    if report.not_run is not None:
        message = f"nothing synced: {report.not_run}"
        raise BadUsage(message) if report.not_run.startswith("no account") else Failed(message)
    for outcome in report.outcomes:
        if outcome.ok:
            click.echo(f"{outcome.label}: synced: {outcome.summary}")
        else:
            click.echo(f"callguard: {outcome.error}", err=True)
    if not report.ok:
        raise click.exceptions.Exit(1)
