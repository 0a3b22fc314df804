"""``callguard serve``: the webhooks under gunicorn, every setting checked before a worker starts."""

from __future__ import annotations

import os

import click

from ..errors import CallguardError
from .errors import BadUsage


@click.command()
@click.option(
    "--policy", "-p", "policy_path", envvar="CALLGUARD_POLICY", show_envvar=True, type=click.Path(dir_okay=False), help="Policy file."
)
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
    from ..runtime.log_output import configure_process_logging
    from ..runtime.preflight import preflight
    from ..runtime.settings import config_from_environment
    from .gunicorn import serve as run_server

    if not policy_path:
        raise BadUsage("--policy: no policy file given (or set CALLGUARD_POLICY)")
    config = {**config_from_environment(), "CALLGUARD_POLICY": os.path.abspath(policy_path)}
    try:
        configure_process_logging(config)  # first, so that what the checks log is in the lines asked for
        preflight(config)
    except CallguardError as exc:  # whatever stops start-up is the setup's: bad usage
        raise BadUsage(str(exc)) from None
    control_socket = os.path.abspath(control_socket) if control_socket else None
    run_server(config, bind=bind, workers=workers, timeout=timeout, access_log=access_log, control_socket=control_socket)
