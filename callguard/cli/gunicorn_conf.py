"""gunicorn settings for ``gunicorn wsgi:app``: callguard's start-up checks and worker hooks.

gunicorn reads ``gunicorn.conf.py`` from its working directory; the one beside ``wsgi.py`` takes
its settings from here, and from anywhere else ``gunicorn -c python:callguard.cli.gunicorn_conf
wsgi:app`` does. Every module-level name that is a gunicorn setting applies: the same hooks and
request limits ``callguard serve`` runs with, and its checks before any worker forks.
"""

from __future__ import annotations

import sys
from typing import Any

from ..errors import CallguardError
from ..runtime.log_output import configure_process_logging
from ..runtime.preflight import preflight
from ..runtime.settings import config_from_environment
from .gunicorn import child_exit, gunicorn_options, post_worker_init, prepare_metrics_directory, worker_exit

__all__ = [
    "child_exit",
    "control_socket_disable",
    "limit_request_fields",
    "limit_request_line",
    "logger_class",
    "on_starting",
    "post_worker_init",
    "worker_exit",
]

_OPTIONS = gunicorn_options()
limit_request_line = _OPTIONS["limit_request_line"]
limit_request_fields = _OPTIONS["limit_request_fields"]
control_socket_disable = _OPTIONS["control_socket_disable"]  # see gunicorn_options: off unless callguard serve is given a path
logger_class = _OPTIONS["logger_class"]  # gunicorn's own lines masked, in CALLGUARD_LOG_FORMAT


def on_starting(server: Any) -> None:
    """In the master, before it forks a worker: one line and exit status 2 for a bad setting."""
    prepare_metrics_directory()  # before anything imports prometheus-client
    try:
        config = config_from_environment()
        configure_process_logging(config)
        preflight(config)
    except CallguardError as exc:
        print(f"callguard: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
