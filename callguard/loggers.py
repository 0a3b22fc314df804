"""callguard's loggers, whose records never carry a full phone number (unless told to).

Every module of callguard gets its logger from :func:`get_logger`, which puts one
:class:`MaskNumbers` filter on it. The filter masks a record where it is made: its message (the
format and its arguments, formatted once), its exception text and its stack text
(:func:`callguard.number_masking.mask_numbers`). ``CALLGUARD_LOG_NUMBERS=full``
(:func:`show_full_numbers`) lets records through untouched.

Why there, and nowhere else:

- A filter on a logger sees only the records made on that very logger, not those its children
  pass up; so one filter on ``callguard`` would miss ``callguard.web``. Every logger callguard
  makes records on carries its own (a test holds every module to :func:`get_logger`).
- A filter on a handler sees only that handler; in a host app (``CallGuard(app)``) the records go
  to the host's handlers, which callguard must not touch, and the host may add more at any time.
- ``logging.setLogRecordFactory`` (and ``setLoggerClass``) is one per process: it would mask the
  host's own records too, or be undone by the next library that sets one.

Masked where it is made, a record is masked for every handler it reaches, whoever configured it.
Its exception is rendered to (masked) text, and the exception itself is not passed on: a handler
formatting ``exc_info`` again would show the numbers in it (python-json-logger does), so one that
wants the exception object (an error tracker) gets its text only, unless numbers are shown in
full. gunicorn's own loggers get the same filter from callguard's gunicorn logger
(:mod:`callguard.cli.gunicorn_logging`), through :func:`mask_records_of`.

The setting is one per process, like the loggers: the last runtime started decides.
"""

from __future__ import annotations

import logging

from .number_masking import mask_numbers

ROOT = "callguard"
_EXCEPTIONS = logging.Formatter()  # renders exception and stack text exactly as a plain formatter would


class MaskNumbers(logging.Filter):
    """Masks the phone numbers of every record made on the logger it is added to; drops none."""

    def __init__(self) -> None:
        super().__init__()
        self.full = False

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.full:
            mask_record(record)
        return True


NUMBERS = MaskNumbers()  # one filter, on every logger of callguard's


def mask_record(record: logging.LogRecord) -> None:
    """Mask ``record``'s message, exception and stack text in place; its arguments are formatted into the message."""
    try:
        message = record.getMessage()
    except Exception:  # bad arguments for the format: a log call must not raise, and logging would only report it later
        message = f"{record.msg} (unformattable arguments {record.args!r})"
    record.msg = mask_numbers(message)
    record.args = None
    if record.exc_info:
        if not record.exc_text:
            record.exc_text = _EXCEPTIONS.formatException(record.exc_info)
        record.exc_info = None
    if record.exc_text:
        record.exc_text = mask_numbers(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_numbers(record.stack_info)


def get_logger(name: str) -> logging.Logger:
    """The logger ``name`` (``callguard`` or one below it), its records masked."""
    if name != ROOT and not name.startswith(ROOT + "."):
        raise ValueError(f"{name!r} is not one of callguard's loggers")
    return mask_records_of(logging.getLogger(name))


def mask_records_of(logger: logging.Logger) -> logging.Logger:
    """Put the masking filter on ``logger`` (once); returns it."""
    if NUMBERS not in logger.filters:
        logger.addFilter(NUMBERS)
    return logger


def show_full_numbers(full: bool) -> None:
    """Whether records carry phone numbers as they are (``CALLGUARD_LOG_NUMBERS=full``) or masked."""
    NUMBERS.full = full


def showing_full_numbers() -> bool:
    return NUMBERS.full


get_logger(ROOT)  # Flask logs an app's unhandled errors on the logger of its name: create_app's is "callguard"
