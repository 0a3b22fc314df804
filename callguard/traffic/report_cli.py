"""``callguard report traffic``: per caller ID and per destination country, from the counters."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime, timezone
from typing import NoReturn

import click

from ..errors import CallguardError
from ..policy.loader import load_policy
from ..store.counters import open_counters
from .monitor import TrafficMonitor


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"callguard: {message}", err=True)
    sys.exit(code)


def _when(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M") if epoch else "-"


@click.group()
def report() -> None:
    """Reports."""


@report.command("traffic")
@click.option("--policy", "-p", "policy_path", envvar="CALLGUARD_POLICY", type=click.Path(dir_okay=False))
@click.option("--account", "account_sid", help="Only this account.")
@click.option("--days", type=click.IntRange(1, 8), default=7, show_default=True, help="Days of country totals.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--redis-url", envvar="CALLGUARD_REDIS_URL", help="Counters in Redis (else the SQLite file).")
@click.option("--counters-path", envvar="CALLGUARD_COUNTERS_PATH", default="callguard-counters.db", show_default=True)
def traffic(policy_path: str | None, account_sid: str | None, days: int, as_json: bool, redis_url: str | None, counters_path: str) -> None:
    """Attempts, answer ratio, average duration and throttles per caller ID; attempts and blocks per country."""
    if not policy_path:
        _fail("--policy: no policy file given (or set CALLGUARD_POLICY)")
    try:
        policy = load_policy(policy_path)
        if account_sid is not None and policy.account(account_sid) is None:
            _fail(f"--account: {account_sid} is not an account in {policy.source}")
        if redis_url is None and not os.path.exists(counters_path):
            _fail(f"--counters-path: {counters_path} does not exist (no traffic recorded here yet?)")
        monitor = TrafficMonitor(open_counters(redis_url, counters_path))
        now = time.time()
        reports = [monitor.report(sid, a.traffic, now, days=days) for sid, a in sorted(policy.accounts.items()) if account_sid in (None, sid)]
    except CallguardError as exc:
        _fail(str(exc), 1)
    if as_json:
        out = [
            {
                "account_sid": r.account_sid,
                "caller_ids": [
                    {"caller_id": c.caller_id, "attempts": c.attempts, "answered": c.answered, "answer_ratio": c.answer_ratio,
                     "average_seconds": c.average_seconds, "throttled_until": c.throttled_until, "throttle_reason": c.throttle_reason}
                    for c in r.caller_ids
                ],
                "countries": [
                    {"region": c.region, "attempts": c.attempts, "refused": c.refused, "blocked_until": c.blocked_until} for c in r.countries
                ],
                "region_calls_24h": r.region_calls,
            }
            for r in reports
        ]
        click.echo(json.dumps(out, indent=2))
        return
    for r in reports:
        if not r.caller_ids and not r.countries:
            continue
        click.echo(f"{r.account_sid}")
        click.echo(f"  {'caller ID':<16} {'attempts':>8} {'answered':>8} {'ratio':>6} {'avg s':>7}  throttled until")
        for c in r.caller_ids:
            ratio = f"{c.answer_ratio:.0%}" if c.answer_ratio is not None else "-"
            average = f"{c.average_seconds:.1f}" if c.average_seconds is not None else "-"
            click.echo(f"  {c.caller_id:<16} {c.attempts:>8} {c.answered:>8} {ratio:>6} {average:>7}  {_when(c.throttled_until)}")
        click.echo(f"  {'country':<16} {'attempts':>8} {'refused':>8}  blocked until")
        for c in r.countries:
            click.echo(f"  {c.region:<16} {c.attempts:>8} {c.refused:>8}  {_when(c.blocked_until)}")
        if r.region_calls:
            click.echo("  calls by deployment region, last 24 h: " + ", ".join(f"{k} {v}" for k, v in sorted(r.region_calls.items())))
