"""The log lines of a process callguard runs itself: ``callguard serve`` and ``gunicorn wsgi:app``.

:func:`configure_process_logging` puts one handler on the root logger, on stderr, from INFO up,
in the master before it forks (the workers inherit it), and applies ``CALLGUARD_LOG_NUMBERS``
(:func:`callguard.loggers.show_full_numbers`). With ``CALLGUARD_LOG_FORMAT=json`` every line is
one JSON object (python-json-logger): ``time`` (ISO 8601, UTC), ``level``, ``logger``,
``message``, ``process``, and ``exception`` when there is one. gunicorn's own error and access
logs take the same :func:`log_formatter` (:mod:`callguard.cli.gunicorn_logging`).

An app that embeds callguard (``CallGuard(app)``) keeps its own logging: nothing here runs
there, and callguard's records reach the app's handlers already masked.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..loggers import show_full_numbers
from .settings import log_format, log_numbers

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"
JSON_FIELDS = {"levelname": "level", "name": "logger", "exc_info": "exception", "stack_info": "stack"}


def log_formatter(output: str) -> logging.Formatter:
    """The formatter of ``output`` (``text`` or ``json``, as ``CALLGUARD_LOG_FORMAT`` names them)."""
    if output == "json":
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter(
            "{levelname}{name}{message}{process}",
            style="{",
            timestamp="time",
            rename_fields=JSON_FIELDS,
            json_ensure_ascii=False,  # a masked number's • as itself
        )
    return logging.Formatter(TEXT_FORMAT)


def configure_process_logging(config: Mapping[str, Any]) -> None:
    """Log callguard's process to stderr in the format ``config`` names; raise ConfigError for a bad log setting.

    Only for a process callguard owns: it sets up the root logger (once; a root logger with
    handlers already is left as it is, as :func:`logging.basicConfig` leaves it)."""
    output = log_format(config)
    show_full_numbers(log_numbers(config) == "full")
    handler = logging.StreamHandler()
    handler.setFormatter(log_formatter(output))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
