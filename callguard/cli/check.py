"""``callguard check``: decide one dial as the server would, and say why."""

from __future__ import annotations

import json

import click

from ..checks.hours import ZoneHours, zone_hours
from ..decision import Action, Decision, DialRequest
from ..hours.zones import callee_zones
from ..policy.accounts import ACCOUNT_SID
from ..policy.model import Policy
from .context import CliContext, counters_options, pass_cli, records_options
from .errors import BadUsage


@click.command()
@records_options
@click.option("--account", "account_sid", required=True, help="Account SID placing the call (an account of the policy).")
@click.option("--from", "from_", help="From: caller number, client:…, or SIP URI.")
@click.option("--to", "to", required=True, help="What was dialled: number, tel:, sip: or client: URI.")
@click.option("--caller-id", help="Explicit caller ID (wins over --from).")
@click.option("--sip-domain", help="SIP Domain the call came through (selects per-trunk settings).")
@click.option("--campaign", help="Campaign the call belongs to (default: the account's).")
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
@click.option("--no-audit", is_flag=True, help="Do not record this decision in the audit log.")
@click.option(
    "--registry-dir", envvar="CALLGUARD_REGISTRY_DIR", show_envvar=True, default="registries", show_default=True,
    type=click.Path(file_okay=False), help="Directory of national Do-Not-Call registry files.",
)
@counters_options
@pass_cli
def check(
    cli: CliContext,
    account_sid: str,
    from_: str | None,
    to: str,
    caller_id: str | None,
    sip_domain: str | None,
    campaign: str | None,
    as_json: bool,
    no_audit: bool,
    registry_dir: str,
) -> None:
    """Decide one dial and say why. Exit 0 to connect or disclose, 1 to reject, 2 for bad input.

    The database holds the opt-outs and consent the telemarketing checks read, the audit log, and
    the last picture `callguard sync` read from Twilio; the registry files and the traffic
    counters are the server's. The traffic limits are checked as a what-if: the call is not
    counted and takes no slot.
    """
    from ..runtime.assemble import assemble
    from ..runtime.settings import Settings, config_from_environment

    if not ACCOUNT_SID.fullmatch(account_sid):
        raise BadUsage(f"--account: {account_sid!r} is not an Account SID (AC followed by 32 hex digits)")
    cli.account(account_sid)
    config = {
        **config_from_environment(),
        "CALLGUARD_POLICY": cli.policy_path,
        "CALLGUARD_REGISTRY_DIR": registry_dir,
        "CALLGUARD_COUNTERS_PATH": cli.counters_path,
        "CALLGUARD_REDIS_PREFIX": cli.redis_prefix,
    }
    for key, value in (("CALLGUARD_DATABASE_URL", cli.database_url), ("CALLGUARD_REDIS_URL", cli.redis_url)):
        if value:
            config[key] = value
    runtime = assemble(Settings.from_mapping(config), config, policy=cli.policy(), what_if=True, record_decisions=not no_audit)
    click.get_current_context().call_on_close(runtime.close)
    guard, counted = runtime.guard, runtime.counters is not None
    decision = guard.check(
        DialRequest(
            account_sid=account_sid, to=to, from_=from_, caller_id=caller_id, sip_domain=sip_domain,
            source="cli", campaign=campaign, what_if=True,
        )
    )
    hours = _calling_hours(decision, guard.policy)
    if as_json:
        fields = decision.as_dict()
        if hours is not None:
            fields["calling_hours"] = [
                {"zone": h.zone, "local": h.local.isoformat(timespec="minutes"), "window": h.window, "open": h.open} for h in hours
            ]
        click.echo(json.dumps(fields, indent=2))
    else:
        _explain(decision, hours)
        if not counted:
            click.echo(f"  traffic: nothing counted yet (no counters file at {runtime.settings.counters_path})")
    if decision.action is Action.REJECT:
        raise click.exceptions.Exit(1)


def _calling_hours(decision: Decision, policy: Policy) -> tuple[ZoneHours, ...] | None:
    """Every zone the calling hours were checked in, when they were."""
    campaign = policy.campaigns.get(decision.campaign) if decision.campaign else None
    if "hours" not in decision.checks or decision.info is None or campaign is None:
        return None
    return zone_hours(policy, decision.info, campaign, decision.decided_at)


def _explain(decision: Decision, hours: tuple[ZoneHours, ...] | None) -> None:
    click.echo(f"{decision.action.value}  {', '.join(decision.reasons)}")
    click.echo(f"  {decision.sentence}")
    for refusal in decision.refusals[1:]:
        click.echo(f"  also: {refusal.sentence}")
    if decision.info is not None:
        info = decision.info
        risk = " and ".join(category.value for category in info.risk_categories)
        click.echo(
            f"  to: {info.e164}  region {info.region or '-'}  type {info.type_name}  risk {risk}"
            f"  time zones {', '.join(zone.key for zone in callee_zones(info)) or '-'}"
        )
    elif decision.target.dial_value:
        click.echo(f"  to: {decision.target.dial_value} ({decision.target.kind.value})")
    click.echo(f"  caller ID: {decision.caller_id or '-'}")
    click.echo(f"  checks run: {', '.join(decision.checks) or '-'}")
    if hours is not None:
        click.echo(f"  calling hours in every zone: {', '.join(map(str, hours))}")
        closed = next((h.zone for h in hours if not h.open), None)
        if closed is not None:
            click.echo(f"  calling hours closed by {closed}")
