"""``callguard report traffic`` (per caller ID and per destination country, from the counters)
and ``callguard traffic lift`` (end a throttle or a velocity block before its time)."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime, timezone
from typing import Any, NoReturn

import click

from .records import _context, _records_options, cli_actor
from ..errors import CallguardError
from ..numbers.risk import validate_e164_prefix
from ..policy.loader import load_policy
from .overrides import _actor_option
from ..store.counters import open_counters
from ..traffic.counters import ClearFlag, CounterBackend
from ..store.changes import log_change
from ..traffic.monitor import TrafficMonitor


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"callguard: {message}", err=True)
    sys.exit(code)


def _when(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M") if epoch else "-"


@click.group()
def report() -> None:
    """Reports."""


def _counters_options(function: Any) -> Any:
    function = click.option(
        "--redis-prefix", envvar="CALLGUARD_REDIS_PREFIX", show_envvar=True, default="callguard:", show_default=True,
        help="Prefix of callguard's keys in Redis.",
    )(function)
    function = click.option(
        "--counters-path", envvar="CALLGUARD_COUNTERS_PATH", show_envvar=True, default="callguard-counters.db", show_default=True,
        help="The SQLite file of the counters (one host; unused with --redis-url).",
    )(function)
    return click.option(
        "--redis-url", envvar="CALLGUARD_REDIS_URL", show_envvar=True, help="Counters in Redis (else the SQLite file)."
    )(function)


def _open_counters(redis_url: str | None, counters_path: str, redis_prefix: str) -> CounterBackend:
    if redis_url is None and not os.path.exists(counters_path):
        _fail(f"--counters-path: {counters_path} does not exist (no traffic recorded here yet?)")
    return open_counters(redis_url, counters_path, prefix=redis_prefix, timeout=2.0)


@report.command("traffic")
@click.option("--policy", "-p", "policy_path", envvar="CALLGUARD_POLICY", show_envvar=True, type=click.Path(dir_okay=False), help="Policy file.")
@click.option("--account", "account_sid", help="Only this account.")
@click.option("--days", type=click.IntRange(1, 8), default=7, show_default=True, help="Days of country totals.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_counters_options
def traffic_report(
    policy_path: str | None, account_sid: str | None, days: int, as_json: bool, redis_url: str | None, counters_path: str, redis_prefix: str
) -> None:
    """Attempts, answer ratio, average duration and throttles per caller ID; attempts and blocks per country."""
    if not policy_path:
        _fail("--policy: no policy file given (or set CALLGUARD_POLICY)")
    try:
        policy = load_policy(policy_path)
        if account_sid is not None and policy.account(account_sid) is None:
            _fail(f"--account: {account_sid} is not an account in {policy.source}")
        monitor = TrafficMonitor(_open_counters(redis_url, counters_path, redis_prefix))
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
                "velocity_blocks": [{"target": b.target, "until": b.until, "reason": b.reason} for b in r.velocity_blocks],
                "region_calls_24h": r.region_calls,
            }
            for r in reports
        ]
        click.echo(json.dumps(out, indent=2))
        return
    for r in reports:
        if not r.caller_ids and not r.countries and not r.velocity_blocks:
            continue
        click.echo(f"{r.account_sid}")
        click.echo(f"  {'caller ID':<16} {'attempts':>8} {'answered':>8} {'ratio':>6} {'avg s':>7}  throttled until")
        for c in r.caller_ids:
            ratio = f"{c.answer_ratio:.0%}" if c.answer_ratio is not None else "-"
            average = f"{c.average_seconds:.1f}" if c.average_seconds is not None else "-"
            click.echo(f"  {c.caller_id:<16} {c.attempts:>8} {c.answered:>8} {ratio:>6} {average:>7}  {_when(c.throttled_until)}")
        click.echo(f"  {'country':<16} {'attempts':>8} {'refused':>8}  blocked until")
        for country in r.countries:
            click.echo(f"  {country.region:<16} {country.attempts:>8} {country.refused:>8}  {_when(country.blocked_until)}")
        for b in r.velocity_blocks:
            click.echo(f"  calls to {b.target} blocked until {_when(b.until)}: {b.reason}")
        if r.region_calls:
            click.echo("  calls by deployment region, last 24 h: " + ", ".join(f"{k} {v}" for k, v in sorted(r.region_calls.items())))


@click.group()
def traffic() -> None:
    """Traffic protection: lift a throttle or a velocity block."""


@traffic.command("lift")
@click.argument("account_sid")
@click.option("--caller-id", help="End this caller ID's throttle (unanswered or short calls).")
@click.option("--target", help="End the velocity block on this prefix (+371) or country (LV).")
@_actor_option
@_records_options
@_counters_options
def lift(
    account_sid: str,
    caller_id: str | None,
    target: str | None,
    actor: str | None,
    policy_path: str | None,
    database_url: str | None,
    redis_url: str | None,
    counters_path: str,
    redis_prefix: str,
) -> None:
    """End a throttle or velocity block now, on every worker and host sharing the counters."""
    if (caller_id is None) == (target is None):
        _fail("give exactly one of --caller-id or --target")
    if caller_id is not None and validate_e164_prefix(caller_id):
        _fail(f"--caller-id: {caller_id!r} is not an E.164 number")
    if target is not None and not (target.isalpha() and target.isupper() and len(target) == 2) and validate_e164_prefix(target):
        _fail(f"--target: {target!r} is neither an E.164 prefix (+371) nor a country code (LV)")
    with _context(policy_path, database_url) as (policy, engine):
        if policy.account(account_sid) is None:
            _fail(f"ACCOUNT: {account_sid} is not an account in {policy.source}")
        key = f"thr:{account_sid}:{caller_id}" if caller_id is not None else f"velblock:{account_sid}:{target}"
        counters = _open_counters(redis_url, counters_path, redis_prefix)
        try:
            now = time.time()
            (lifted,) = counters.run([ClearFlag(key)], now)
        finally:
            counters.close()
        what = f"throttle of caller ID {caller_id}" if caller_id is not None else f"velocity block on {target}"
        if not lifted:
            _fail(f"{account_sid}: no {what} is in force", 1)
        log_change(
            engine, now=now, actor=cli_actor(actor), entity="traffic", entity_id=f"{account_sid}:{caller_id or target}", action="lift",
            before={"flag": key}, after=None,
        )
        click.echo(f"{account_sid}: {what} lifted")
