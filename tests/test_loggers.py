"""callguard's loggers mask the phone numbers of every record they make (callguard.loggers)."""

from __future__ import annotations

import ast
import importlib
import io
import logging
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import callguard
from callguard.loggers import NUMBERS, get_logger, mask_records_of, show_full_numbers, showing_full_numbers

PACKAGE = Path(callguard.__file__).parent


@pytest.fixture
def root_output() -> Iterator[io.StringIO]:
    """What a handler on the root logger writes, as any host app's handler would receive it."""
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    logger = logging.getLogger("callguard")
    level = logger.level
    logger.setLevel(logging.INFO)
    yield output
    root.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def full_numbers() -> Iterator[None]:
    shown = showing_full_numbers()
    show_full_numbers(True)
    yield
    show_full_numbers(shown)


def test_a_child_loggers_message_arguments_exception_and_stack_reach_the_root_masked(root_output: io.StringIO) -> None:
    log = get_logger("callguard.web.test")
    try:
        raise ValueError("no route to +442079460123")
    except ValueError:
        log.exception("opt-out for call %s to %s could not be stored: %r", "CA" + "1" * 32, "+12125550123", {"To": "(415) 555-0100"})
    log.warning("stack of %s", "sip:+14155550100@pbx.sip.twilio.com", stack_info=True)
    text = root_output.getvalue()
    assert "+1212•••0123" in text and "(415) •••-0100" in text and "+4420••••0123" in text and "sip:+1415•••0100@" in text
    assert "CA" + "1" * 32 in text
    for number in ("12125550123", "555-0100", "442079460123", "14155550100"):
        assert number not in text
    assert "Traceback" in text and "ValueError: no route to +4420••••0123" in text and "Stack (most recent call last)" in text


def test_a_masked_record_carries_its_exception_as_text_only(root_output: io.StringIO) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep()
    logging.getLogger().addHandler(keep)
    try:
        try:
            raise ValueError("+12125550123")
        except ValueError:
            get_logger("callguard.web.test").exception("fault")
    finally:
        logging.getLogger().removeHandler(keep)
    (record,) = records
    # A formatter that renders exc_info again (python-json-logger does) would show the number.
    assert record.exc_info is None and record.exc_text is not None and record.exc_text.endswith("ValueError: +1212•••0123")
    assert record.args is None and record.getMessage() == "fault"


def test_full_numbers_when_told(root_output: io.StringIO, full_numbers: None) -> None:
    get_logger("callguard.web.test").info("opt-out recorded: %s", "+12125550123")
    assert "opt-out recorded: +12125550123" in root_output.getvalue()


def test_a_log_call_with_bad_arguments_does_not_raise(root_output: io.StringIO) -> None:
    get_logger("callguard.web.test").info("two: %s %s", "+12125550123")
    assert "two: %s %s (unformattable arguments ('+1212•••0123',))" in root_output.getvalue()


def test_only_callguards_loggers_and_the_filter_once() -> None:
    with pytest.raises(ValueError, match="'flask' is not one of callguard's loggers"):
        get_logger("flask")
    with pytest.raises(ValueError):
        get_logger("callguardish")
    logger = get_logger("callguard.web.test")
    assert mask_records_of(get_logger("callguard.web.test")) is logger and logger.filters.count(NUMBERS) == 1


def test_every_module_of_callguard_makes_its_loggers_with_get_logger() -> None:
    calls = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "loggers.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr in ("getLogger", "getLoggerClass", "setLoggerClass", "setLogRecordFactory"):
                calls.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert calls == []


def test_every_logger_below_callguard_masks_once_every_module_is_imported() -> None:
    for module in pkgutil.walk_packages([str(PACKAGE)], prefix="callguard."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    names = [name for name, logger in logging.root.manager.loggerDict.items() if isinstance(logger, logging.Logger)]
    ours = [name for name in names if name == "callguard" or name.startswith("callguard.")]
    assert {"callguard", "callguard.web", "callguard.engine", "callguard.store", "callguard.sync.http"} <= set(ours)
    assert [name for name in ours if NUMBERS not in logging.getLogger(name).filters] == []
