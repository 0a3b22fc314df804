"""gunicorn's own logs the way callguard writes its lines: numbers masked, JSON when asked.

gunicorn logs on two loggers of its own that pass nothing up to the root: ``gunicorn.error``
(start-up, workers, and a request's fault with its URL) and ``gunicorn.access``, whose lines
carry the request line, query string included: a webhook Twilio calls with GET brings
``To=%2B14155550100`` there, and a referer may too. So both get callguard's masking filter
(:func:`callguard.loggers.mask_records_of`), and with ``CALLGUARD_LOG_FORMAT=json`` the handlers
gunicorn made get callguard's JSON formatter; handlers an operator's own ``--log-config``
made keep theirs.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from ..errors import ConfigError
from ..loggers import mask_records_of
from ..runtime.log_output import log_formatter
from ..runtime.settings import config_from_environment, log_format


class GunicornLogger(Logger):
    """gunicorn's logger (its ``logger_class``), its records masked and its lines in ``CALLGUARD_LOG_FORMAT``."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        try:
            output = log_format(config_from_environment())
        except ConfigError:
            output = "text"  # gunicorn builds its logger before on_starting, which stops start-up with the one-line error
        for logger in (self.error_log, self.access_log):
            mask_records_of(logger)
            if output == "json":
                for handler in logger.handlers:
                    if getattr(handler, "_gunicorn", False):  # gunicorn's own, not an operator's --log-config ones
                        handler.setFormatter(log_formatter(output))
