"""The ``callguard`` command line.

Errors are one line on stderr naming the file, key or field at fault, and a non-zero exit:
1 when the thing checked was refused or invalid, 2 for bad usage or configuration.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, NoReturn

import click

from ..runtime.settings import Settings, auto_migrate, config_from_environment
from ..decision import Action, DialRequest
from ..errors import CallguardError, ConfigError
from ..policy.loader import load_policy


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"callguard: {message}", err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="callguard-voice")
def main() -> None:
    """callguard: call-control middleware for Twilio voice."""


@main.group()
def policy() -> None:
    """Work with policy files."""


@policy.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def policy_validate(file: str) -> None:
    """Check a policy file; print what is wrong, naming the key, or a summary."""
    try:
        loaded = load_policy(file)
    except ConfigError as exc:
        _fail(str(exc), 1)
    subaccounts = sum(1 for a in loaded.accounts.values() if a.parent)
    click.echo(
        f"{file}: ok ({len(loaded.accounts)} accounts, {subaccounts} of them subaccounts; "
        f"{len(loaded.blocked_prefixes)} blocked prefixes)"
    )


def _policy_option(function: Any) -> Any:
    return click.option(
        "--policy",
        "-p",
        "policy_path",
        envvar="CALLGUARD_POLICY",
        show_envvar=True,
        type=click.Path(dir_okay=False),
        help="Policy file.",
    )(function)


@main.command()
@_policy_option
@click.option("--account", "account_sid", required=True, help="Account SID placing the call (an account of the policy).")
@click.option("--from", "from_", help="From: caller number, client:…, or SIP URI.")
@click.option("--to", "to", required=True, help="What was dialled: number, tel:, sip: or client: URI.")
@click.option("--caller-id", help="Explicit caller ID (wins over --from).")
@click.option("--sip-domain", help="SIP Domain the call came through (selects per-trunk settings).")
@click.option("--campaign", help="Campaign the call belongs to (default: the account's).")
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
@click.option("--no-audit", is_flag=True, help="Do not record this decision in the audit log.")
@click.option("--database-url", envvar="CALLGUARD_DATABASE_URL", show_envvar=True, help="Audit database (default: ./callguard.db).")
@click.option(
    "--registry-dir", envvar="CALLGUARD_REGISTRY_DIR", show_envvar=True, default="registries", show_default=True,
    type=click.Path(file_okay=False), help="Directory of national Do-Not-Call registry files.",
)
@click.option(
    "--counters-path", envvar="CALLGUARD_COUNTERS_PATH", show_envvar=True, type=click.Path(dir_okay=False),
    help="The server's traffic counters file (default: ./callguard-counters.db), read and never written.",
)
@click.option(
    "--redis-url", envvar="CALLGUARD_REDIS_URL", show_envvar=True,
    help="Redis of a many-host server's traffic counters (instead of --counters-path), read and never written.",
)
def check(
    policy_path: str | None,
    account_sid: str,
    from_: str | None,
    to: str,
    caller_id: str | None,
    sip_domain: str | None,
    campaign: str | None,
    as_json: bool,
    no_audit: bool,
    database_url: str | None,
    registry_dir: str,
    counters_path: str | None,
    redis_url: str | None,
) -> None:
    """Decide one dial and say why. Exit 0 to connect or disclose, 1 to reject, 2 for bad input.

    The traffic limits are checked against the server's counters as a what-if: the call is not
    counted and takes no slot.
    """
    from ..engine import Guard
    from ..lookups import Lookups
    from ..policy.loader import ACCOUNT_SID
    from ..registry import RegistryDirectory
    from ..store.audit import SqlAuditLog
    from ..store.consents import ConsentStore
    from ..store.counters import open_counters
    from ..traffic.counters import CounterBackend
    from ..store.database import create_database_engine, default_database_url
    from ..store.optouts import OptOutStore
    from ..store.twilio_snapshots import TwilioSnapshotStore
    from ..sync.apply import apply_twilio
    from ..store.migrate import ensure_schema
    from ..traffic.monitor import TrafficMonitor

    if not policy_path:
        _fail("--policy: no policy file given (or set CALLGUARD_POLICY)")
    if not ACCOUNT_SID.fullmatch(account_sid):
        _fail(f"--account: {account_sid!r} is not an Account SID (AC followed by 32 hex digits)")
    engine = None
    counters: CounterBackend | None = None
    try:
        loaded = load_policy(policy_path)
        if loaded.account(account_sid) is None:
            _fail(f"--account: {account_sid} is not an account in {policy_path}")
        config: dict[str, Any] = {**config_from_environment(), "CALLGUARD_POLICY": policy_path}
        if counters_path:
            config["CALLGUARD_COUNTERS_PATH"] = counters_path
        if redis_url:
            config["CALLGUARD_REDIS_URL"] = redis_url
        settings = Settings.from_mapping(config)
        # The database holds the opt-outs and consent the telemarketing checks read, the audit
        # log, and the last picture `callguard sync` read from Twilio for synced accounts; the
        # registry files are the ones the server maps, the traffic counters the ones it counts in.
        url = database_url or default_database_url()
        engine = create_database_engine(url)
        ensure_schema(engine, upgrade=auto_migrate(os.environ, url))
        loaded = apply_twilio(loaded, TwilioSnapshotStore(engine).load(), max_staleness=settings.twilio_max_staleness)
        # A what-if writes nothing, not even an empty counters file where no server has counted.
        counted = bool(settings.redis_url) or os.path.exists(settings.counters_path)
        if counted:
            counters = open_counters(settings.redis_url, settings.counters_path, prefix=settings.redis_prefix)
        lookups = Lookups(
            optouts=OptOutStore(engine),
            consents=ConsentStore(engine),
            registries=RegistryDirectory(registry_dir),
            traffic=TrafficMonitor(counters, deployment_region=settings.region_name) if counters is not None else None,
        )
        guard = Guard(loaded, audit=None if no_audit else SqlAuditLog(engine), lookups=lookups)
        decision = guard.check(
            DialRequest(
                account_sid=account_sid,
                to=to,
                from_=from_,
                caller_id=caller_id,
                sip_domain=sip_domain,
                source="cli",
                campaign=campaign,
                what_if=True,
            )
        )
    except CallguardError as exc:
        _fail(str(exc))
    finally:
        if counters is not None:
            counters.close()
        if engine is not None:
            engine.dispose()
    if as_json:
        click.echo(json.dumps(decision.as_dict(), indent=2))
    else:
        click.echo(f"{decision.action.value}  {', '.join(decision.reasons)}")
        click.echo(f"  {decision.sentence}")
        for refusal in decision.refusals[1:]:
            click.echo(f"  also: {refusal.sentence}")
        if decision.info is not None:
            info = decision.info
            click.echo(
                f"  to: {info.e164}  region {info.region or '-'}  type {info.type_name}  risk {info.risk.value}"
                f"  time zones {', '.join(info.time_zones) or '-'}"
            )
        elif decision.target.dial_value:
            click.echo(f"  to: {decision.target.dial_value} ({decision.target.kind.value})")
        click.echo(f"  caller ID: {decision.caller_id or '-'}")
        click.echo(f"  checks run: {', '.join(decision.checks) or '-'}")
        if not counted:
            click.echo(f"  traffic: nothing counted yet (no counters file at {settings.counters_path})")
    sys.exit(0 if decision.action is not Action.REJECT else 1)


@main.command()
@_policy_option
@click.option("--bind", "-b", default="127.0.0.1:8000", show_default=True, help="Address to listen on.")
@click.option("--workers", "-w", type=int, help="Worker processes (default: 2 x cores + 1).")
@click.option("--timeout", type=int, default=30, show_default=True, help="Worker timeout, seconds.")
@click.option("--access-log", is_flag=True, help="Log every request.")
@click.option(
    "--control-socket",
    type=click.Path(dir_okay=False),
    help="Serve gunicorn's control socket (gunicornc) at this path; off without it.",
)
def serve(policy_path: str | None, bind: str, workers: int | None, timeout: int, access_log: bool, control_socket: str | None) -> None:
    """Serve the webhooks under gunicorn."""
    from .gunicorn import prepare_metrics_directory

    prepare_metrics_directory()  # before anything imports prometheus-client
    from .gunicorn import configure_logging, preflight
    from .gunicorn import serve as run_server

    configure_logging()
    if not policy_path:
        _fail("--policy: no policy file given (or set CALLGUARD_POLICY)")
    config: dict[str, Any] = config_from_environment()
    config["CALLGUARD_POLICY"] = os.path.abspath(policy_path)
    try:
        preflight(config)
    except CallguardError as exc:
        _fail(str(exc))
    control_socket = os.path.abspath(control_socket) if control_socket else None
    run_server(config, bind=bind, workers=workers, timeout=timeout, access_log=access_log, control_socket=control_socket)


from .records import consent, optout  # noqa: E402
from .db import db  # noqa: E402
from .registry import registry  # noqa: E402
from .simulate import simulate_command  # noqa: E402
from .overrides import register as register_runtime_commands  # noqa: E402
from .sync import sync  # noqa: E402
from .traffic import report, traffic  # noqa: E402

main.add_command(optout)
main.add_command(consent)
main.add_command(db)
main.add_command(registry)
main.add_command(report)
main.add_command(traffic)
main.add_command(sync)
main.add_command(simulate_command, name="simulate")
register_runtime_commands(main)

