"""The log lines of callguard's own processes, text or JSON (callguard.runtime.log_output)."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callguard import ConfigError
from callguard.loggers import get_logger
from callguard.runtime.log_output import configure_process_logging, log_formatter
from callguard.runtime.settings import log_format, log_numbers

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(log_formatter("json"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield output
    root.removeHandler(handler)


def test_json_lines_carry_time_level_logger_message_process_and_the_exception(lines: io.StringIO) -> None:
    log = get_logger("callguard.web.test")
    log.warning("call %s to %s refused", "CA" + "2" * 32, "+12125550123")
    try:
        raise RuntimeError("the store refused +442079460123")
    except RuntimeError:
        log.exception("opt-out to %s not stored", "(212) 555-0123")
    first, second = (json.loads(line) for line in lines.getvalue().splitlines())
    assert set(first) == {"time", "level", "logger", "message", "process"}
    assert first["level"] == "WARNING" and first["logger"] == "callguard.web.test" and first["process"] == os.getpid()
    assert first["message"] == f"call {'CA' + '2' * 32} to +1212•••0123 refused"
    assert abs(datetime.fromisoformat(first["time"]) - datetime.now(UTC)) < timedelta(minutes=1)
    assert set(second) == {"time", "level", "logger", "message", "process", "exception"}
    assert second["message"] == "opt-out to (212) •••-0123 not stored"
    assert second["exception"].startswith("Traceback") and second["exception"].endswith("RuntimeError: the store refused +4420••••0123")


def test_text_lines() -> None:
    record = logging.LogRecord("callguard.web", logging.INFO, __file__, 1, "opt-out recorded: %s", ("+1212•••0123",), None)
    line = log_formatter("text").format(record)
    assert line.endswith(f" INFO callguard.web [{os.getpid()}] opt-out recorded: +1212•••0123")


@pytest.mark.parametrize(
    ("config", "numbers", "output"),
    [({}, "masked", "text"), ({"CALLGUARD_LOG_NUMBERS": "FULL", "CALLGUARD_LOG_FORMAT": "Json"}, "full", "json"),
     ({"CALLGUARD_LOG_NUMBERS": "", "CALLGUARD_LOG_FORMAT": ""}, "masked", "text")],
)
def test_the_settings_and_their_defaults(config: dict[str, str], numbers: str, output: str) -> None:
    assert (log_numbers(config), log_format(config)) == (numbers, output)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"CALLGUARD_LOG_NUMBERS": "hidden"}, "CALLGUARD_LOG_NUMBERS: expected 'masked' or 'full', got 'hidden'"),
        ({"CALLGUARD_LOG_FORMAT": "logfmt"}, "CALLGUARD_LOG_FORMAT: expected 'text' or 'json', got 'logfmt'"),
    ],
)
def test_a_bad_log_setting_is_one_line_naming_it(config: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        configure_process_logging(config)
    assert str(caught.value) == message


def _process_logging(env: dict[str, str]) -> str:
    """stderr of a fresh interpreter that configures its logging as callguard serve does, then logs."""
    script = (
        "from callguard.runtime.log_output import configure_process_logging\n"
        "from callguard.runtime.settings import config_from_environment\n"
        "from callguard.loggers import get_logger\n"
        "configure_process_logging(config_from_environment())\n"
        "get_logger('callguard.web').info('opt-out recorded: %s', '+12125550123')\n"
        "get_logger('callguard.web').debug('not at INFO')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **env},
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_a_process_of_callguards_logs_to_stderr_from_info_up_in_the_format_asked() -> None:
    (text,) = _process_logging({}).splitlines()
    assert re.fullmatch(r"\S+ \S+ INFO callguard\.web \[\d+\] opt-out recorded: \+1212•••0123", text)
    (line,) = _process_logging({"CALLGUARD_LOG_FORMAT": "json"}).splitlines()
    assert json.loads(line)["message"] == "opt-out recorded: +1212•••0123"
    (full,) = _process_logging({"CALLGUARD_LOG_NUMBERS": "full"}).splitlines()
    assert full.endswith("opt-out recorded: +12125550123")
