"""Run callguard under gunicorn: the worker hooks, and the gunicorn application ``callguard serve``
runs (``gunicorn wsgi:app`` gets the same hooks from :mod:`callguard.cli.gunicorn_conf`). Both
check every setting once before workers fork (:func:`callguard.runtime.preflight.preflight`)."""

from __future__ import annotations

import gc
import multiprocessing
import os
import tempfile
from collections.abc import Mapping
from typing import Any

from gunicorn.app.base import BaseApplication

from ..loggers import get_logger
from .gunicorn_logging import GunicornLogger

log = get_logger("callguard")


def default_workers() -> int:
    """gunicorn's recommendation for CPU-bound sync workers: 2 × cores + 1."""
    return multiprocessing.cpu_count() * 2 + 1


def prepare_metrics_directory() -> str:
    """Give every worker one directory to count metrics in (prometheus-client's multiprocess mode).

    Must run before prometheus-client is imported. A directory the environment names is
    emptied of the last run's files; otherwise a fresh one is made.
    """
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.unlink(os.path.join(directory, name))
    else:
        directory = tempfile.mkdtemp(prefix="callguard-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    return directory


# gunicorn's server hooks, by their setting names (CallguardServer and callguard.cli.gunicorn_conf set them).


def child_exit(server: Any, worker: Any) -> None:
    """In the master, after a worker exits: its metrics files stop counting as live."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def worker_exit(server: Any, worker: Any) -> None:
    """In a worker that is exiting: close its runtime (background work stopped, the audit backlog written)."""
    app = getattr(worker, "wsgi", None)
    state = getattr(app, "extensions", {}).get("callguard") if app is not None else None
    if state is not None:
        state.close()


def post_worker_init(worker: Any) -> None:
    """In a worker that has built its app."""
    freeze_startup_objects()


def freeze_startup_objects() -> None:
    """Move everything alive now out of the cyclic collector's reach (``gc.freeze``).

    A worker that has built its app holds hundreds of thousands of objects that live as long
    as it does (phonenumbers' metadata, SQLAlchemy, twilio, the policy); every full collection
    would walk them all again, in the middle of some call's decision. Frozen, they are skipped,
    and a collection costs only what the calls themselves allocate. Collected first, so no
    garbage of the start-up is kept for good.
    """
    gc.collect()
    gc.freeze()


class CallguardServer(BaseApplication):
    """A gunicorn application whose workers each build the app with ``create_app(config)``."""

    def __init__(self, config: Mapping[str, Any], options: Mapping[str, Any]) -> None:
        self.app_config = dict(config)
        self.options = dict(options)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)
        self.cfg.set("worker_exit", worker_exit)
        self.cfg.set("child_exit", child_exit)
        self.cfg.set("post_worker_init", post_worker_init)

    def load(self) -> Any:
        from ..web.app import create_app

        return create_app(self.app_config)


def gunicorn_options(
    *,
    bind: str = "127.0.0.1:8000",
    workers: int | None = None,
    timeout: int = 30,
    access_log: bool = False,
    control_socket: str | None = None,
) -> dict[str, Any]:
    """The gunicorn settings ``callguard serve`` runs with."""
    return {
        "bind": bind,
        "workers": workers or default_workers(),
        "worker_class": "sync",
        "timeout": timeout,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": "-" if access_log else None,
        "proc_name": "callguard",
        # gunicorn's error and access lines masked and formatted as callguard's own (CALLGUARD_LOG_FORMAT)
        "logger_class": GunicornLogger,
        # Twilio's requests are small; refuse anything silly before Flask sees it.
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        # gunicorn's control socket (gunicornc) is on by default at one path per user
        # (~/.gunicorn/gunicorn.ctl): every server of the host, callguard's or another app's,
        # would take it over from the one before, and the master stops and restarts the socket's
        # thread around every worker it forks. Only at a path of the operator's choosing.
        "control_socket": control_socket,
        "control_socket_disable": control_socket is None,
    }


def serve(
    config: Mapping[str, Any],
    *,
    bind: str = "127.0.0.1:8000",
    workers: int | None = None,
    timeout: int = 30,
    access_log: bool = False,
    control_socket: str | None = None,
) -> None:
    options = gunicorn_options(bind=bind, workers=workers, timeout=timeout, access_log=access_log, control_socket=control_socket)
    log.info("serving on %s with %d workers (pid %d)", bind, options["workers"], os.getpid())
    CallguardServer(config, options).run()
