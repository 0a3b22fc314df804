"""``callguard sync``: read every synced account from Twilio now, and store it for every worker and host.

Running workers pick the result up within a second, as they pick up runtime changes. The
command waits for no schedule, but will not run while another sync is in progress. One line per
account; a failure is one line on stderr naming the account, the REST resource and Twilio's
answer, and the exit status is 1 (2 for bad usage or configuration).
"""

from __future__ import annotations

import logging
import sys
from typing import NoReturn

import click

from .records import _context, _records_options
from ..runtime.settings import Settings, config_from_environment
from ..errors import ConfigError


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"callguard: {message}", err=True)
    sys.exit(code)


@click.command()
@click.option("--account", "accounts", multiple=True, help="Only the family of this account (repeatable; default: every synced account).")
@_records_options
def sync(accounts: tuple[str, ...], policy_path: str | None, database_url: str | None) -> None:
    """Read numbers, caller IDs, subaccounts and dialing permissions from Twilio now."""
    from ..sync.runner import build_twilio_sync

    # Failures are reported below, one line each; the runner's log lines would repeat them.
    logging.getLogger("callguard").addHandler(logging.NullHandler())
    config = config_from_environment()
    with _context(policy_path, database_url) as (policy, engine):
        try:
            settings = Settings.from_mapping({**config, "CALLGUARD_POLICY": policy_path})
        except ConfigError as exc:
            _fail(str(exc), 2)
        for sid in accounts:
            if policy.account(sid) is None:
                _fail(f"--account: {sid} is not an account in {policy.source}", 2)
        runner = build_twilio_sync(
            engine, config=config, clock=settings.clock, sleep=settings.sleep,
            interval=settings.twilio_sync_interval, base_url=settings.twilio_base_url,
        )
        report = runner.run(policy, force=True, only=accounts)
        if report.not_run is not None:
            _fail(f"nothing synced: {report.not_run}", 2 if report.not_run.startswith("no account") else 1)
        for outcome in report.outcomes:
            if outcome.ok:
                click.echo(f"{outcome.label}: synced: {outcome.summary}")
            else:
                click.echo(f"callguard: {outcome.error}", err=True)
        if not report.ok:
            sys.exit(1)
