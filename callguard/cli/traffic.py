"""``callguard report traffic`` (per caller ID and per destination country, from the counters,
with the caller IDs throttled and campaigns paused for complaints)
and ``callguard traffic lift`` (end a throttle or a velocity block before its time)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import click

from ..numbers.risk import validate_e164_prefix
from ..store.changes import log_change
from ..traffic import keys
from ..traffic.counters import ClearFlag
from ..traffic.monitor import TrafficMonitor
from .context import CliContext, actor, actor_option, counters_options, pass_cli, policy_option, records_options
from .errors import BadUsage, Failed


def _when(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M") if epoch else "-"


@click.group()
def report() -> None:
    """Reports."""


@report.command("traffic")
@policy_option
@click.option("--account", "account_sid", help="Only this account.")
@click.option("--days", type=click.IntRange(1, 8), default=7, show_default=True, help="Days of country totals.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@counters_options
@pass_cli
def traffic_report(cli: CliContext, account_sid: str | None, days: int, as_json: bool) -> None:
    """Attempts, answer ratio, average duration and throttles per caller ID; attempts and blocks per country."""
    policy = cli.policy()
    if account_sid is not None:
        cli.account(account_sid)
    counters = cli.counters()
    assert counters is not None
    monitor = TrafficMonitor(counters)
    now = time.time()
    reports = [monitor.report(sid, a.traffic, now, days=days) for sid, a in sorted(policy.accounts.items()) if account_sid in (None, sid)]
    complaint_flags = {r.account_sid: monitor.complaint_flags(r.account_sid, now) for r in reports}
    if as_json:
        out = [
            {
                "account_sid": r.account_sid,
                "caller_ids": [
                    {
                        "caller_id": c.caller_id,
                        "attempts": c.attempts,
                        "answered": c.answered,
                        "answer_ratio": c.answer_ratio,
                        "average_seconds": c.average_seconds,
                        "throttled_until": c.throttled_until,
                        "throttle_reason": c.throttle_reason,
                    }
                    for c in r.caller_ids
                ],
                "countries": [
                    {"region": c.region, "attempts": c.attempts, "refused": c.refused, "blocked_until": c.blocked_until}
                    for c in r.countries
                ],
                "velocity_blocks": [{"target": b.target, "until": b.until, "reason": b.reason} for b in r.velocity_blocks],
                "region_calls_24h": r.region_calls,
                "complaint_throttles": [
                    {"scope": f.kind, "subject": f.subject, "until": f.until, "reason": f.reason} for f in complaint_flags[r.account_sid]
                ],
            }
            for r in reports
        ]
        click.echo(json.dumps(out, indent=2))
        return
    for r in reports:
        if not r.caller_ids and not r.countries and not r.velocity_blocks and not complaint_flags[r.account_sid]:
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
        for f in complaint_flags[r.account_sid]:
            what = f"caller ID {f.subject} throttled" if f.kind == "caller_id" else f"campaign {f.subject} paused"
            click.echo(f"  {what} for complaints until {_when(f.until)}: {f.reason}")
        if r.region_calls:
            click.echo("  calls by deployment region, last 24 h: " + ", ".join(f"{k} {v}" for k, v in sorted(r.region_calls.items())))


@click.group()
def traffic() -> None:
    """Traffic protection: lift a throttle, a velocity block or a campaign's pause."""


@traffic.command("lift")
@click.argument("account_sid")
@click.option("--caller-id", help="End this caller ID's throttle (unanswered or short calls, or complaints).")
@click.option("--target", help="End the velocity block on this prefix (+371) or country (LV).")
@click.option("--campaign", help="End this campaign's pause for complaints (for the account's family).")
@actor_option
@records_options
@counters_options
@pass_cli
def lift(
    cli: CliContext, account_sid: str, caller_id: str | None, target: str | None, campaign: str | None, actor_name: str | None
) -> None:
    """End a throttle, velocity block or campaign pause now, on every worker and host sharing the counters."""
    if [caller_id, target, campaign].count(None) != 2:
        raise BadUsage("give exactly one of --caller-id, --target or --campaign")
    if caller_id is not None and validate_e164_prefix(caller_id):
        raise BadUsage(f"--caller-id: {caller_id!r} is not an E.164 number")
    if target is not None and not (target.isalpha() and target.isupper() and len(target) == 2) and validate_e164_prefix(target):
        raise BadUsage(f"--target: {target!r} is neither an E.164 prefix (+371) nor a country code (LV)")
    account = cli.account(account_sid, "ACCOUNT")
    campaign = cli.campaign(campaign)
    engine = cli.engine()
    if caller_id is not None:
        flags = [keys.throttle(account_sid, caller_id), keys.complaint_throttle(account_sid, caller_id)]
        what = f"throttle of caller ID {caller_id}"
    elif campaign is not None:
        flags, what = [keys.campaign_pause(account.family, campaign)], f"pause of campaign {campaign} for complaints"
    else:
        flags, what = [keys.velocity_block(account_sid, target or "")], f"velocity block on {target}"
    counters = cli.counters()
    assert counters is not None
    now = time.time()
    lifted = [key for key, cleared in zip(flags, counters.run([ClearFlag(key) for key in flags], now), strict=True) if cleared]
    if not lifted:
        raise Failed(f"{account_sid}: no {what} is in force")
    log_change(
        engine, now=now, actor=actor(actor_name), entity="traffic", entity_id=f"{account_sid}:{caller_id or campaign or target}",
        action="lift", before={"flag": lifted[0] if len(lifted) == 1 else lifted}, after=None,
    )
    click.echo(f"{account_sid}: {what} lifted")
